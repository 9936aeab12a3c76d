// shutdownOnSignals on a real child process (test/fixtures/stdio-server.ts) with real signals.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, FORCED_EXIT_CODE } from '../src/index.js';
import { killStdioServers, spawnStdioServer, type Report } from './fixtures/stdio-harness.js';
import { expectCleanWire, statsOf } from './fixtures/stdio-expect.js';

afterEach(() => {
  killStdioServers();
});



function expectStoppedClean(report: Report): void {
  const stats = statsOf(report);
  expect(stats.state).toBe('stopped');
  expect(stats.inFlight).toBe(0);
  expect(stats.cancelling).toBe(0);
  expect(stats.sessions).toMatchObject({ connected: 0, draining: 0, closing: 0, total: 1 });
  expect(report['writesAfterClose']).toBe(0);
}

describe('shutdownOnSignals in a real process', () => {
  it('on SIGTERM mid-request refuses new requests, answers the one in flight and exits 0', async () => {
    const child = spawnStdioServer();
    child.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: { ms: 400 } });
    await child.report('started', (r) => r['id'] === 1);
    child.proc.kill('SIGTERM');
    // Unready at once (still serving for the shutdown delay, 0 here), then draining.
    expect(await child.report('signal')).toMatchObject({ signal: 'SIGTERM', state: 'unready' });
    await child.report('phase', (r) => r['to'] === 'draining');
    child.send({ jsonrpc: '2.0', id: 2, method: 'echo', params: { text: 'too late' } });

    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages).toEqual([
      { jsonrpc: '2.0', id: 2, error: { code: ErrorCode.SessionDraining, message: 'Session is draining', data: { state: 'draining', retryAfterMs: 1000 } } },
      { jsonrpc: '2.0', id: 1, result: { slept: 400 } },
    ]);
    expectCleanWire(child);
    const stopped = await child.report('stopped');
    expectStoppedClean(stopped);
    expect(statsOf(stopped)).toMatchObject({ completed: 1, refused: 1, abandoned: 0 });
    expect(Object.values(statsOf(stopped).cancelled).every((n) => n === 0)).toBe(true);
    expect((await child.report('session.closed'))['info']).toMatchObject({ reason: null, drainReason: 'shutdown' });
  });

  it('reacts to SIGINT the same way', async () => {
    const child = spawnStdioServer();
    child.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: { ms: 200 } });
    await child.report('started', (r) => r['id'] === 1);
    child.proc.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages).toEqual([{ jsonrpc: '2.0', id: 1, result: { slept: 200 } }]);
    expectCleanWire(child);
    expectStoppedClean(await child.report('stopped'));
  });

  it('past drainTimeoutMs cancels with shutdown, abandons a handler that ignores its signal, and exits 0', async () => {
    const child = spawnStdioServer({ limits: { drainTimeoutMs: 200, cancelGraceMs: 200 } });
    child.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: { ms: 60_000 } });
    child.send({ jsonrpc: '2.0', id: 2, method: 'stubborn', params: { ms: 60_000 } });
    await child.report('started', (r) => r['id'] === 2);
    child.proc.kill('SIGTERM');

    // The stubborn handler's 60 s timer would hold the process: the default exit ends it once stopped.
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const cancelled = (reason: string) => ({ code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason } });
    expect(child.messages).toEqual([
      { jsonrpc: '2.0', id: 1, error: cancelled('shutdown') },
      { jsonrpc: '2.0', id: 2, error: cancelled('shutdown') },
    ]);
    expectCleanWire(child);
    expect(await child.report('abandoned')).toMatchObject({ id: 2 });
    const stopped = await child.report('stopped');
    expectStoppedClean(stopped);
    expect(statsOf(stopped).cancelled['shutdown']).toBe(2);
    expect(statsOf(stopped).cancelled['drain-timeout']).toBe(0);
    expect(statsOf(stopped).abandoned).toBe(1);
    // Every phase in order; the drain and the cancel grace each last about their budget (200 ms:
    // Node starts a timer on the event loop's cached time, so it may fire a few ms early).
    const phases = stopped['phases'] as { phase: string; ms: number }[];
    expect(phases.map((p) => p.phase)).toEqual(['running', 'unready', 'draining', 'cancelling', 'abandoning', 'closing', 'stopped']);
    for (const budgeted of [phases[2]!, phases[3]!]) {
      expect(budgeted.ms).toBeGreaterThanOrEqual(150);
      expect(budgeted.ms).toBeLessThan(1000);
    }
    expect((await child.report('exit'))['code']).toBe(0);
  });

  it('a second SIGTERM forces the stop at once', async () => {
    const child = spawnStdioServer({ limits: { drainTimeoutMs: 60_000, cancelGraceMs: 60_000 } });
    child.send({ jsonrpc: '2.0', id: 1, method: 'stubborn', params: { ms: 60_000 } });
    await child.report('started', (r) => r['id'] === 1);
    child.proc.kill('SIGTERM');
    await child.report('signal');
    child.proc.kill('SIGTERM');

    expect(await child.exited).toEqual({ code: FORCED_EXIT_CODE, signal: null });
    expect(child.messages).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason: 'shutdown' } } },
    ]);
    expectCleanWire(child);
    const stopped = await child.report('stopped');
    // Forced at once: the stubborn handler is cancelled but not yet abandoned (its grace is 60 s),
    // so the supervisor has not reached `stopped` (no session left) when the process exits.
    expect(statsOf(stopped).state).toBe('cancelling');
    expect(statsOf(stopped).cancelling).toBe(1);
    expect(statsOf(stopped).cancelled['shutdown']).toBe(1);
    expect(stopped['writesAfterClose']).toBe(0);
    expect(child.reports.filter((r) => r.event === 'stopped')).toHaveLength(1);
  });
});
