// `serve --workers 2` on node:cluster, as real processes: one port, a supervisor per worker, a dead
// worker replaced, SIGTERM forwarded, the summary summed over the workers.
import { spawnSync } from 'node:child_process';
import { request, type ClientRequest } from 'node:http';
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

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'cluster-test', version: '1.0.0' },
};

/** A modern `tools/call sleep` on its own connection; resolves once its SSE stream carried the first progress event. */
function openSleep(origin: string, id: number): Promise<ClientRequest> {
  const url = new URL('/mcp', origin);
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 60_000 }, _meta: { progressToken: id, ...MODERN_META } } });
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': 'sleep',
    'content-length': Buffer.byteLength(body),
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`sleep ${id}: HTTP ${String(res.statusCode)}`));
      res.once('data', () => resolve(req));
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end(body);
  });
}

/** One sample of the Prometheus text, by its full name with labels (e.g. `x_total{reason="a"}`). */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
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

  it('aggregates /metrics over the workers on the primary, probes on the metrics port, and cancel-on-abort holds in every worker', async () => {
    const server = spawnServe(['--port', '0', '--metrics-port', '0', '--log-level', 'warn', '--quiet', '--workers', '2', '--shutdown-delay', '300']);
    await waitFor(server, 2, /^listening http:/);
    const origin = new URL(server.stderrLines.find((l) => l.startsWith('listening http:'))!.slice('listening '.length)).origin;
    const metricsUrl = (await server.line(/^metrics http:/)).slice('metrics '.length);
    const note = JSON.parse(server.stderrLines.find((l) => l.includes('"msg":"cluster"'))!);
    expect(note).toMatchObject({ workers: 2, note: expect.stringContaining('404') });

    // Each echo on its own connection: node:cluster hands connections to the workers in turn.
    for (let id = 1; id <= 6; id += 1) expect(await echo(origin, id)).toEqual({ jsonrpc: '2.0', id, result: { id } });
    const first = await (await fetch(metricsUrl)).text();
    expect(sample(first, 'session_supervisor_requests_total'), first).toBe(6);
    expect(sample(first, 'session_supervisor_requests_completed_total')).toBe(6);
    // Each worker's Streamable HTTP listener has its own families, summed by the primary too.
    expect(sample(first, 'session_supervisor_http_exchanges_total')).toBe(6);
    // The metrics answer needed both workers over IPC, after their 'listening' messages on the same channel.
    const probe = new URL('/readyz', metricsUrl);
    expect(await (await fetch(new URL('/healthz', metricsUrl))).json()).toEqual({ status: 'live' });
    const ready = await fetch(probe);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    expect((await fetch(probe, { method: 'POST' })).status).toBe(405);

    // 8 SSE tool calls, one connection each, then every client drops its connection.
    const open: ClientRequest[] = [];
    for (let id = 100; id < 108; id += 1) open.push(await openSleep(origin, id));
    for (const req of open) req.destroy();
    let text = '';
    for (let scrape = 0; scrape < 200; scrape += 1) {
      text = await (await fetch(metricsUrl)).text();
      if (
        sample(text, 'session_supervisor_cancellations_total{reason="transport-closed"}') === 8 &&
        sample(text, 'session_supervisor_in_flight') === 0 &&
        sample(text, 'session_supervisor_http_exchanges_aborted_total') === 8
      ) {
        break;
      }
    }
    expect(sample(text, 'session_supervisor_cancellations_total{reason="transport-closed"}'), text).toBe(8);
    expect(sample(text, 'session_supervisor_http_exchanges_aborted_total')).toBe(8);
    expect(sample(text, 'session_supervisor_in_flight')).toBe(0);
    expect(sample(text, 'session_supervisor_requests_completed_total')).toBe(6);

    server.child.kill('SIGTERM');
    await server.line(/"msg":"shutdown"/);
    // Unready on the metrics port at once, while the workers still serve for the shutdown delay.
    const unready = await fetch(probe);
    expect([unready.status, await unready.json()]).toEqual([503, { status: 'unready' }]);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const summary = server.lastJson();
    expect(summary.cancelled['transport-closed']).toBe(8);
    expect(summary.workers).toHaveLength(2);
    for (const w of summary.workers) {
      // Both workers served some of the aborted calls, cancelled each with transport-closed, wrote nothing after.
      expect(w.counters.cancelled['transport-closed'], JSON.stringify(summary)).toBeGreaterThan(0);
      expect(w.http.exchanges.aborted).toBe(w.counters.cancelled['transport-closed']);
      expect(w.http.writesAfterClose).toBe(0);
    }
  });
});
