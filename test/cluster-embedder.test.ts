// The cluster API for embedders (runClusterPrimary, attachClusterWorker, startClusterMetricsServer,
// reportToPrimary) in a real node:cluster of 2 workers: live stats and /metrics summed over the
// workers, probes on the metrics port, SIGTERM forwarded and each worker's final stats collected.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

type Fixture = ChildProcessByStdio<Writable, Readable, null>;
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/cluster-embedder.ts', import.meta.url));
const children = new Set<Fixture>();
afterEach(() => {
  // The whole process group: the primary and its workers.
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  children.clear();
});

/** The fixture's stdout as JSON lines, read in order. */
function start(): { child: Fixture; next: () => Promise<any> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  children.add(child);
  const queued: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter === undefined) queued.push(line);
    else waiter(line);
  });
  return {
    child,
    next: async () => {
      const line = queued.shift() ?? (await new Promise<string>((resolve) => waiters.push(resolve)));
      return JSON.parse(line);
    },
  };
}

async function echo(port: number, id: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', connection: 'close' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params: { id } }),
  });
  return response.json();
}

describe('cluster API for embedders', () => {
  it('sums the live stats and /metrics of every worker, probes the metrics port, and collects each final report', async () => {
    const { child, next } = start();
    const ready = await next();
    for (let id = 1; id <= 5; id += 1) expect(await echo(ready.port, id)).toEqual({ jsonrpc: '2.0', id, result: { id } });

    child.stdin.write('stats\n');
    const { stats } = await next();
    expect(stats).toMatchObject({ workers: 2, answered: 2, missing: 0, replaced: 0 });
    expect(stats.total).toMatchObject({ requests: 5, completed: 5, inFlight: 0, state: 'running' });
    expect(stats.total.sessions.total).toBe(5);

    const text = await (await fetch(ready.metrics)).text();
    expect(text).toMatch(/^session_supervisor_requests_total 5$/m);
    expect((await fetch(new URL('/live', ready.metrics))).status).toBe(200);
    expect((await fetch(new URL('/ready', ready.metrics))).status).toBe(200);
    expect((await fetch(new URL('/readyz', ready.metrics))).status).toBe(404);

    child.kill('SIGTERM');
    const { ends } = await next();
    expect(ends).toHaveLength(2);
    for (const end of ends) expect(end).toMatchObject({ code: 0, phases: ['running', 'unready', 'draining', 'closing', 'stopped'] });
    expect(ends.reduce((sum: number, e: { requests: number }) => sum + e.requests, 0)).toBe(5);
  }, 60_000);

  it('keeps the counters of killed workers in /metrics: the sum never goes down when a worker is replaced', async () => {
    const { child, next } = start();
    const ready = await next();
    for (let id = 1; id <= 6; id += 1) expect(await echo(ready.port, id)).toEqual({ jsonrpc: '2.0', id, result: { id } });
    const requestsTotal = async (): Promise<number> => Number(/^session_supervisor_requests_total (\d+)$/m.exec(await (await fetch(ready.metrics)).text())?.[1]);
    expect(await requestsTotal()).toBe(6);

    // Kill both workers, one after the other: every request so far was counted by a dead worker.
    child.stdin.write('pids\n');
    const { pids } = (await next()) as { pids: number[] };
    expect(pids).toHaveLength(2);
    for (const pid of pids) {
      process.kill(pid, 'SIGKILL');
      expect(await next()).toMatchObject({ relistening: expect.any(Number) });
      expect(await requestsTotal()).toBe(6);
    }
    for (let id = 7; id <= 9; id += 1) expect(await echo(ready.port, id)).toEqual({ jsonrpc: '2.0', id, result: { id } });
    expect(await requestsTotal()).toBe(9);
    const text = await (await fetch(ready.metrics)).text();
    // A dead worker's gauges leave with it: two live workers, both running.
    expect(text).toMatch(/^session_supervisor_healthy 1$/m);

    child.stdin.write('stats\n');
    const { stats } = await next();
    // Live stats are the live workers' only.
    expect(stats).toMatchObject({ workers: 2, answered: 2, missing: 0, replaced: 2 });
    expect(stats.total).toMatchObject({ requests: 3, completed: 3 });
    child.kill('SIGTERM');
    const { ends } = await next();
    expect(ends).toHaveLength(4);
  }, 60_000);
});
