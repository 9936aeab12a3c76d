// The phased shutdown of `session-supervisor serve` in a real child process with real signals:
// unready first (/readyz 503 while still serving), then the drain, the cancel, the abandon, the
// listeners closed, and the summary (with every phase and its duration) as the last stderr line.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { killServes, spawnServe, type ServeProcess } from './mcp/cli-process.js';

afterEach(() => killServes());

interface Phase {
  phase: string;
  ms: number;
}

async function start(args: string[]): Promise<{ server: ServeProcess; origin: string }> {
  const server = spawnServe(['--port', '0', '--log-level', 'info', ...args]);
  const line = await server.line(/^listening http:/);
  return { server, origin: new URL(line.slice('listening '.length)).origin };
}

async function get(url: string): Promise<number> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status;
}

async function echo(origin: string, id: number): Promise<{ status: number; body: any }> {
  const response = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'echo', params: { n: id } }),
  });
  return { status: response.status, body: await response.json() };
}

/** A WebSocket MCP session with a stubborn tool call in flight (it ignores its cancellation). */
async function stubbornCall(origin: string): Promise<{ answer: Promise<any>; ws: WebSocket }> {
  const ws = new WebSocket(origin.replace('http:', 'ws:'), 'mcp');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const messages = new Map<number, (m: any) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.get(m.id)?.(m);
  });
  const reply = (id: number): Promise<any> => new Promise((resolve) => messages.set(id, resolve));
  const init = reply(1);
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } }));
  await init;
  const answer = reply(2);
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'stubborn_sleep', arguments: { ms: 60_000 } } }));
  return { answer, ws };
}

/** The `phase X` log line (the logger prints one per phase entered). */
const phaseLine = (phase: string): RegExp => new RegExp(`"msg":"phase ${phase}"`);

describe('serve: phased shutdown on SIGTERM', () => {
  it('turns /readyz 503 while still serving, then drains, cancels, abandons, closes and exits 0 with the phases last', async () => {
    const { server, origin } = await start(['--shutdown-delay', '1500', '--drain-timeout', '300', '--cancel-grace', '200']);
    expect(await get(`${origin}/readyz`)).toBe(200);
    expect(await get(`${origin}/healthz`)).toBe(200);
    const { answer } = await stubbornCall(origin);

    server.child.kill('SIGTERM');
    await server.line(phaseLine('unready'));
    // Unready at once, yet the listener still accepts: a new request is served.
    expect(await get(`${origin}/readyz`)).toBe(503);
    expect(await get(`${origin}/healthz`)).toBe(200);
    expect(await echo(origin, 10)).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 10, result: { n: 10 } } });
    expect(server.stderrLines.some((l) => phaseLine('draining').test(l))).toBe(false);

    // After the delay the listener stops accepting: refused before admission, retryable.
    await server.line(phaseLine('draining'));
    const refused = await echo(origin, 11);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { data: { retryAfterMs: 5000 } } });

    // The stubborn call is cancelled with `shutdown` at the drain deadline, abandoned after the grace.
    expect(await answer).toMatchObject({ id: 2, error: { code: -32800, data: { reason: 'shutdown' } } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const summary = server.lastJson();
    expect(summary).toMatchObject({ cancelled: { shutdown: 1 }, abandoned: 1 });
    const phases = summary.phases as Phase[];
    expect(phases.map((p) => p.phase)).toEqual(['running', 'unready', 'draining', 'cancelling', 'abandoning', 'closing', 'stopped']);
    const ms = Object.fromEntries(phases.map((p) => [p.phase, p.ms]));
    // Each budgeted phase lasts about its budget (timers may fire a few ms early on the loop's cached time).
    expect(ms['unready']).toBeGreaterThanOrEqual(1450);
    expect(ms['draining']).toBeGreaterThanOrEqual(250);
    expect(ms['cancelling']).toBeGreaterThanOrEqual(150);
    // The whole shutdown stays inside its budget: delay + drain + grace, with room for the closing steps.
    const total = ms['unready']! + ms['draining']! + ms['cancelling']! + ms['abandoning']! + ms['closing']!;
    expect(total).toBeLessThan(1500 + 300 + 200 + 1000);
  });

  it('a second SIGTERM forces the exit at once, with the summary still the last stderr line', async () => {
    const { server, origin } = await start(['--shutdown-delay', '60000', '--drain-timeout', '60000', '--cancel-grace', '60000']);
    const { answer } = await stubbornCall(origin);
    server.child.kill('SIGTERM');
    await server.line(phaseLine('unready'));
    server.child.kill('SIGTERM');

    expect(await answer).toMatchObject({ id: 2, error: { code: -32800, data: { reason: 'shutdown' } } });
    expect(await server.exited).toEqual({ code: 1, signal: null });
    const summary = server.lastJson();
    expect(summary).toMatchObject({ cancelled: { shutdown: 1 } });
    expect((summary.phases as Phase[]).map((p) => p.phase)).toEqual(['running', 'unready', 'cancelling']);
  });
});
