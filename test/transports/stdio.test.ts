// The stdio transport on real pipes: the server runs as a child process (test/fixtures/stdio-server.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/index.js';
import { killStdioServers, spawnStdioServer, type Report } from '../fixtures/stdio-harness.js';
import { expectCleanWire, statsOf } from '../fixtures/stdio-expect.js';

afterEach(() => {
  killStdioServers();
});



/** The invariants seen from inside, at the end: nothing left running, nothing written after close. */
function expectNothingLeft(report: Report): void {
  const stats = statsOf(report);
  expect(stats.inFlight).toBe(0);
  expect(stats.cancelling).toBe(0);
  expect(stats.sessions).toMatchObject({ connected: 0, draining: 0, closing: 0 });
  expect(report['writesAfterClose']).toBe(0);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('stdio transport over real pipes', () => {
  it('answers the requests in flight after stdin ends and exits 0 by itself', async () => {
    const child = spawnStdioServer();
    child.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { text: 'first' } });
    child.send({ jsonrpc: '2.0', id: 2, method: 'sleep', params: { ms: 300 } });
    child.send({ jsonrpc: '2.0', id: 3, method: 'sleep', params: { ms: 100 } });
    await child.report('started', (r) => r['id'] === 2);
    await child.report('started', (r) => r['id'] === 3);
    child.proc.stdin.end();

    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(child.messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: { text: 'first' } },
      { jsonrpc: '2.0', id: 3, result: { slept: 100 } },
      { jsonrpc: '2.0', id: 2, result: { slept: 300 } },
    ]);
    expectCleanWire(child);
    const closed = await child.report('session.closed');
    expect(closed['info']).toEqual({ sessionId: 's1', reason: null, drainReason: 'input-ended', failed: false });
    expect(statsOf(closed)).toMatchObject({ completed: 3, blockedSends: 0, abandoned: 0 });
    expectNothingLeft(closed);
    expectNothingLeft(await child.report('exit'));
  });

  it('cancels what outlasts drainTimeoutMs after stdin ends with drain-timeout, and still exits 0', async () => {
    const child = spawnStdioServer({ limits: { drainTimeoutMs: 200, cancelGraceMs: 5_000 } });
    child.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: { ms: 60_000 } });
    await child.report('started', (r) => r['id'] === 1);
    child.proc.stdin.end();

    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason: 'drain-timeout' } } },
    ]);
    expectCleanWire(child);
    const closed = await child.report('session.closed');
    expect(closed['info']).toMatchObject({ reason: 'drain-timeout', drainReason: 'input-ended' });
    expect(statsOf(closed).cancelled['drain-timeout']).toBe(1);
    expectNothingLeft(closed);
  });

  it('exits 0 without an EPIPE stack when the reader goes away mid-request, cancelling the rest with transport-closed, even when a handler then writes to stdout', async () => {
    const child = spawnStdioServer();
    child.send({ jsonrpc: '2.0', id: 1, method: 'sleep', params: { ms: 200 } });
    // Cancelled when the output goes, this one writes to stdout again while cleaning up.
    child.send({ jsonrpc: '2.0', id: 2, method: 'noisy' });
    await child.report('started', (r) => r['id'] === 2);
    // Close our end of the child's stdout: its next write fails with EPIPE.
    child.proc.stdout.destroy();

    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages).toEqual([]);
    expectCleanWire(child);
    const closed = await child.report('session.closed');
    expect(closed['info']).toMatchObject({ reason: 'transport-closed', failed: false });
    const stats = statsOf(closed);
    expect(stats.completed).toBe(1);
    expect(stats.cancelled['transport-closed']).toBe(1);
    expect(stats.abandoned).toBe(0);
    expect(stats.blockedSends).toBe(0);
    expectNothingLeft(closed);
    expect(await child.report('cancelled')).toMatchObject({ id: 2, reason: 'transport-closed' });
  });

  it('reassembles multi-byte UTF-8 characters fed one byte at a time', async () => {
    const child = spawnStdioServer();
    const text = 'héllo — 日本語 🎉 Ωμέγα';
    const line = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { text } })}\n`);
    for (const byte of line) {
      await child.write(Buffer.of(byte));
      await sleep(1);
    }
    expect(await child.response(1)).toEqual({ jsonrpc: '2.0', id: 1, result: { text } });
    child.proc.stdin.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages).toHaveLength(1);
    expectCleanWire(child);
  });

  it('answers a line of invalid UTF-8 with -32700 and id null, and the next line still works', async () => {
    const child = spawnStdioServer();
    await child.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"echo","params":["'), Buffer.of(0xff, 0xfe), Buffer.from('"]}\n')]));
    // A character cut short by the newline is invalid too.
    await child.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":2,"method":"echo","params":["'), Buffer.of(0xe6, 0x97), Buffer.from('\n')]));
    child.send({ jsonrpc: '2.0', id: 3, method: 'echo', params: { text: 'still here' } });
    expect(await child.response(3)).toEqual({ jsonrpc: '2.0', id: 3, result: { text: 'still here' } });
    child.proc.stdin.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });

    const parseError = { jsonrpc: '2.0', id: null, error: { code: ErrorCode.ParseError, message: 'Parse error', data: 'invalid UTF-8' } };
    expect(child.messages).toEqual([parseError, parseError, { jsonrpc: '2.0', id: 3, result: { text: 'still here' } }]);
    expectCleanWire(child);
    const closed = await child.report('session.closed');
    expect(closed['info']).toMatchObject({ failed: false, drainReason: 'input-ended' });
    expectNothingLeft(closed);
  });

  it('accepts CRLF line ends, ignores blank lines and answers a last line without newline', async () => {
    const child = spawnStdioServer();
    await child.write('{"jsonrpc":"2.0","id":1,"method":"echo","params":["crlf"]}\r\n');
    await child.write('\n\r\n   \n');
    await child.write('{"jsonrpc":"2.0","id":2,"method":"echo","params":["no newline"]}');
    child.proc.stdin.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: ['crlf'] },
      { jsonrpc: '2.0', id: 2, result: ['no newline'] },
    ]);
    expectCleanWire(child);
    expectNothingLeft(await child.report('session.closed'));
  });

  it('answers a 200 MiB line with one -32004, keeps memory bounded and serves the next line', async () => {
    const child = spawnStdioServer();
    child.send({ jsonrpc: '2.0', id: 1, method: 'peakRss' });
    await child.response(1);
    const before = child.peakRssKiB();

    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    await child.write('{"jsonrpc":"2.0","id":99,"method":"echo","params":["');
    for (let i = 0; i < 200; i += 1) await child.write(chunk);
    await child.write('"]}\n');
    child.send({ jsonrpc: '2.0', id: 2, method: 'echo', params: ['after'] });
    expect(await child.response(2)).toEqual({ jsonrpc: '2.0', id: 2, result: ['after'] });
    const after = child.peakRssKiB();
    child.proc.stdin.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });

    expect(child.messages.slice(1)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit: 4 * 1024 * 1024 } } },
      { jsonrpc: '2.0', id: 2, result: ['after'] },
    ]);
    expectCleanWire(child);
    // The line is never held: the peak grows by garbage not yet collected, far less than the line.
    expect(after - before).toBeLessThan(100 * 1024);
    expectNothingLeft(await child.report('session.closed'));
  });

  it('uses maxLineBytes as the line cap', async () => {
    const child = spawnStdioServer({ maxLineBytes: 64 });
    child.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(100)] });
    child.send({ jsonrpc: '2.0', id: 2, method: 'echo', params: ['short'] });
    expect(await child.response(2)).toEqual({ jsonrpc: '2.0', id: 2, result: ['short'] });
    child.proc.stdin.end();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages[0]).toMatchObject({ id: null, error: { code: ErrorCode.MessageTooLarge } });
    expect(child.messages).toHaveLength(2);
    expectCleanWire(child);
  });
});
