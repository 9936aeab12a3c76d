import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { killServes, spawnServe, type ServeProcess } from '../mcp/cli-process.js';

afterEach(() => killServes());

const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/src/cli.js', ...args], { encoding: 'utf8', timeout: 20_000 });

async function listen(args: string[] = []): Promise<{ server: ServeProcess; url: string }> {
  const server = spawnServe(['--port', '0', ...(args.includes('--log-level') ? [] : ['--log-level', 'warn']), ...args]);
  const line = await server.line(/^listening /);
  return { server, url: line.slice('listening '.length) };
}

/** A raw ws client that records every parsed message. */
async function client(
  url: string,
): Promise<{ ws: WebSocket; messages: any[]; response(id: number): Promise<any>; progress(token: string): Promise<any>; send(m: unknown): void; closed: Promise<number> }> {
  const ws = new WebSocket(url, 'mcp');
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const first = (match: (m: any) => boolean): Promise<any> =>
    new Promise((resolve) => {
      const check = (): void => {
        const found = messages.find(match);
        if (found !== undefined) {
          waiters.delete(check);
          resolve(found);
        }
      };
      waiters.add(check);
      check();
    });
  return {
    ws,
    messages,
    closed,
    send: (m) => ws.send(JSON.stringify(m)),
    response: (id) => first((m) => m.id === id),
    /** The first progress notification for `token`: its request is running in the server. */
    progress: (token) => first((m) => m.method === 'notifications/progress' && m.params?.progressToken === token),
  };
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } };
const callTool = (id: number, name: string, args: Record<string, unknown>, progressToken?: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) },
});

describe('session-supervisor serve: flags', () => {
  it('prints the usage for --help and exits 0', () => {
    const result = cli('serve', '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: session-supervisor serve/);
    for (const flag of ['--host', '--port', '--stdio', '--drain-timeout', '--request-timeout', '--max-in-flight', '--max-message-bytes', '--log-level', '--inspect', '--metrics-port', '--dashboard-port']) {
      expect(result.stdout).toContain(flag);
    }
    expect(cli('--help').status).toBe(0);
  });

  it('refuses a bad flag with a clear message on stderr, nothing on stdout, and exit 2', () => {
    const result = cli('serve', '--port', 'abc');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("session-supervisor serve: --port must be an integer from 0 to 65535 (got 'abc')");
    expect(result.stdout).toBe('');
    const unknown = cli('serve', '--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--bogus'");
  });

  it('dispatches diagrams to its own command', () => {
    const result = cli('diagrams', '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: session-supervisor diagrams/);
  });

  it('refuses an unknown command with exit 2', () => {
    const result = cli('launch');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'launch'");
  });
});

describe('session-supervisor serve: WebSocket', () => {
  it('prints exactly one listening line, accepts upgrades on any path, answers plain JSON-RPC echo without initialize, logs JSON at --log-level debug', async () => {
    const { server, url } = await listen(['--log-level', 'debug']);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:[1-9]\d*$/);
    const c = await client(`${url}/any/path?x=1`);
    c.send({ jsonrpc: '2.0', id: 7, method: 'echo', params: { a: [1, 2] } });
    expect(await c.response(7)).toEqual({ jsonrpc: '2.0', id: 7, result: { a: [1, 2] } });
    c.send(callTool(8, 'echo', { text: 'x' }));
    expect(await c.response(8)).toMatchObject({ error: { code: -32005 } });
    const opened = JSON.parse(await server.line(/"msg":"session s1 opened/));
    expect(opened).toMatchObject({ level: 30, sessionId: 's1', transport: 'ws', msg: 'session s1 opened (ws)' });
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderrLines.filter((l) => l.startsWith('listening'))).toEqual([`listening ${url}`, `listening ${url.replace('ws://', 'http://')}/mcp`]);
  });

  it('on SIGTERM drains: the call in flight is answered, then exit 0 with the counters last', async () => {
    const { server, url } = await listen();
    const c = await client(url);
    c.send(initialize);
    await c.response(1);
    c.send(callTool(2, 'sleep', { ms: 400 }, 'p2'));
    // `sleep` reports progress 0 as it starts: the call is in flight before the signal.
    await c.progress('p2');
    server.child.kill('SIGTERM');
    expect(await c.response(2)).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'slept 400 ms' }] } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const { phases, http, ...counters } = server.lastJson();
    expect(counters).toEqual({
      sessions: 1,
      requests: 2,
      completed: 2,
      failed: 0,
      cancelled: { client: 0, 'transport-closed': 0, 'drain-timeout': 0, 'request-timeout': 0, shutdown: 0, 'session-failed': 0 },
      abandoned: 0,
      blockedSends: 0,
    });
    expect(http).toEqual({
      sessions: { open: 0, created: 0, expired: 0, deleted: 0, refused: 0 },
      exchanges: { open: 0, total: 0, aborted: 0 },
      refused: {},
      writesAfterClose: 0,
      undelivered: 0,
      bodiesReading: 0,
    });
    expect(phases.map((p: { phase: string }) => p.phase)).toEqual(['running', 'unready', 'draining', 'closing', 'stopped']);
  });

  it('counts HTTP exchanges, legacy sessions and refusals in the last line', async () => {
    const { server, url } = await listen();
    const endpoint = `${url.replace('ws://', 'http://')}/mcp`;
    const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(body),
      });
    const modern = await post(
      { jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'echo' },
    );
    expect(modern.status).toBe(200);
    expect(await modern.json()).toMatchObject({ id: 1, result: { a: 1 } });
    const legacy = await post(initialize);
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('mcp-session-id')).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    await legacy.text();
    const refused = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(refused.status).toBe(415);
    await refused.text();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const { http, sessions, requests } = server.lastJson();
    expect({ sessions, requests }).toEqual({ sessions: 2, requests: 2 });
    expect(http).toMatchObject({
      sessions: { open: 0, created: 1, refused: 0 },
      exchanges: { open: 0, total: 1, aborted: 0 },
      refused: { 415: 1 },
      writesAfterClose: 0,
    });
  });

  it('honours --drain-timeout: a call still running is answered -32800 and counted; a stubborn one is abandoned', async () => {
    const { server, url } = await listen(['--drain-timeout', '150']);
    const c = await client(url);
    c.send(initialize);
    await c.response(1);
    c.send(callTool(3, 'stubborn_sleep', { ms: 60_000 }));
    c.send(callTool(2, 'sleep', { ms: 60_000 }, 'p2'));
    // Frames are handled in order: once call 2 reports progress, both calls are in flight.
    await c.progress('p2');
    server.child.kill('SIGTERM');
    // The drain deadline cancels what is left with `shutdown` (the phase after the drain).
    expect(await c.response(2)).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled', data: { reason: 'shutdown' } } });
    expect(await c.response(3)).toMatchObject({ error: { code: -32800, data: { reason: 'shutdown' } } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lastJson()).toMatchObject({ requests: 3, completed: 1, cancelled: { shutdown: 2 }, abandoned: 1 });
  });

  it('honours --request-timeout (-32001), --max-in-flight (-32002) and --max-message-bytes (close 1009)', async () => {
    const { server, url } = await listen(['--request-timeout', '100', '--max-in-flight', '1', '--max-message-bytes', '300']);
    const c = await client(url);
    c.send(initialize);
    await c.response(1);
    c.send(callTool(2, 'sleep', { ms: 60_000 }));
    c.send(callTool(3, 'sleep', { ms: 60_000 }));
    expect(await c.response(3)).toMatchObject({ error: { code: -32002 } });
    expect(await c.response(2)).toMatchObject({ error: { code: -32001, data: { reason: 'request-timeout' } } });
    c.send({ jsonrpc: '2.0', id: 4, method: 'echo', params: 'x'.repeat(500) });
    expect(await c.closed).toBe(1009);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lastJson()).toMatchObject({ cancelled: { 'request-timeout': 1 } });
  });
});

describe('session-supervisor serve --stdio', () => {
  it('writes only JSON-RPC on stdout and its logs on stderr', async () => {
    const result = spawnSync(process.execPath, ['dist/src/cli.js', 'serve', '--stdio', '--log-level', 'debug'], {
      input: `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { ok: true } })}\nnot json\n`,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { jsonrpc: '2.0', id: 1, result: { ok: true } },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
    ]);
    const stderr = result.stderr.trim().split('\n');
    expect(stderr.some((l) => l.includes('"msg":"serving on stdin/stdout"'))).toBe(true);
    const last = JSON.parse(stderr.at(-1)!);
    expect(last).toMatchObject({ sessions: 1, requests: 1, completed: 1 });
    // No HTTP listener with --stdio: no HTTP counters either.
    expect(last).not.toHaveProperty('http');
  });
});

describe('session-supervisor serve: observability flags', () => {
  it('serves Prometheus metrics on --metrics-port and the dashboard on --dashboard-port, and closes both on SIGTERM', async () => {
    const { server, url } = await listen(['--metrics-port', '0', '--dashboard-port', '0']);
    const metricsUrl = (await server.line(/^metrics http:\/\//)).slice('metrics '.length);
    const dashboardUrl = (await server.line(/^dashboard http:\/\//)).slice('dashboard '.length);
    const c = await client(url);
    c.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: [] });
    await c.response(1);
    const refused = await fetch(`${url.replace('ws://', 'http://')}/mcp`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(refused.status).toBe(415);
    await refused.text();
    const metrics = await fetch(metricsUrl);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^session_supervisor_sessions_opened_total 1$/m);
    // The Streamable HTTP listener on the same port has its own families.
    expect(text).toMatch(/^session_supervisor_http_refused_total\{status="415"\} 1$/m);
    expect(text).toMatch(/^session_supervisor_http_exchanges_total 0$/m);
    const state = await fetch(new URL('/state', dashboardUrl));
    expect(state.status).toBe(200);
    expect(typeof (await state.json())).toBe('object');
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lastJson()).toMatchObject({ sessions: 1, requests: 1, completed: 1 });
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });

  it('runs with --inspect and, on SIGINT, still ends with exit 0 and the counters as the last line', async () => {
    const { server } = await listen(['--inspect']);
    server.child.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lastJson()).toMatchObject({ sessions: 0, requests: 0 });
  });
});
