// `serve --workers 2` on node:cluster, as real processes: one port, a supervisor per worker, a dead
// worker replaced, SIGTERM forwarded, the summary summed over the workers.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killServes, spawnServe, type ServeProcess } from './mcp/cli-process.js';

afterEach(() => killServes());

function workerPids(server: ServeProcess): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)], { encoding: 'utf8' }).stdout;
  return out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

/** Resolves once `count` stderr lines match (the listener is in place before the first check). */
function waitFor(server: ServeProcess, count: number, match: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (server.stderrLines.filter((l) => match.test(l)).length >= count) done(resolve);
    };
    const exited = (): void => done(() => reject(new Error(`server exited before ${count} × ${String(match)}`)));
    const done = (then: () => void): void => {
      server.child.stderr.off('data', onData);
      server.child.off('exit', exited);
      then();
    };
    // The harness splits lines on its own 'data' listener, registered first: ours runs after it.
    const onData = (): void => check();
    server.child.stderr.on('data', onData);
    server.child.once('exit', exited);
    check();
  });
}

async function echo(origin: string, id: number): Promise<unknown> {
  const response = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', connection: 'close' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params: { id } }),
  });
  return response.json();
}

describe('serve --workers', () => {
  it('runs 2 workers on one port, replaces a dead one, and on SIGTERM exits 0 with the counters of all workers', async () => {
    const server = spawnServe(['--port', '0', '--log-level', 'warn', '--workers', '2']);
    await waitFor(server, 2, /^listening http:/);
    const origin = new URL(server.stderrLines.find((l) => l.startsWith('listening http:'))!.slice('listening '.length)).origin;
    for (let id = 1; id <= 6; id += 1) expect(await echo(origin, id)).toEqual({ jsonrpc: '2.0', id, result: { id } });

    const [victim] = workerPids(server);
    expect(workerPids(server)).toHaveLength(2);
    process.kill(victim!, 'SIGKILL');
    const replaced = JSON.parse(await server.line(/"msg":"worker replaced"/));
    expect(replaced).toMatchObject({ reason: 'worker-exit', pid: victim, signal: 'SIGKILL' });
    await waitFor(server, 3, /^listening http:/);
    for (let id = 7; id <= 10; id += 1) expect(await echo(origin, id)).toEqual({ jsonrpc: '2.0', id, result: { id } });

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const summary = server.lastJson();
    expect(summary.workers).toHaveLength(2);
    expect(summary.workersReplaced).toBe(1);
    for (const w of summary.workers) {
      expect(w.code).toBe(0);
      expect(w.phases.map((p: { phase: string }) => p.phase)).toEqual(['running', 'unready', 'draining', 'closing', 'stopped']);
    }
    // The requests the surviving and the new worker served (the killed one's count died with it).
    expect(summary.requests).toBeGreaterThanOrEqual(4);
    expect(summary.requests).toBeLessThanOrEqual(10);
    expect(summary.completed).toBe(summary.requests);
  });
});
