// What a client gets when it asks a draining `serve` for new work, over real transports: refused
// before admission with a retryable error. A WebSocket or legacy HTTP session that is draining
// answers −32000 with `data.retryAfterMs` (1000: retry on a new connection); a new modern HTTP
// exchange gets 503 with `Retry-After` and `data.retryAfterMs`.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { killServes, spawnServe } from './mcp/cli-process.js';

afterEach(() => killServes());

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A WebSocket MCP session: send a request, get its answer by id. */
async function wsSession(origin: string): Promise<{ call: (id: number, method: string, params: object) => Promise<any>; progress: Promise<void> }> {
  const ws = new WebSocket(origin.replace('http:', 'ws:'), 'mcp');
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const waiting = new Map<number, (m: any) => void>();
  let progressed: () => void = () => {};
  const progress = new Promise<void>((resolve) => {
    progressed = resolve;
  });
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.method === 'notifications/progress') progressed();
    else waiting.get(m.id)?.(m);
  });
  const call = (id: number, method: string, params: object): Promise<any> => {
    const answer = new Promise((resolve) => waiting.set(id, resolve));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return answer;
  };
  await call(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } });
  return { call, progress };
}

/** A legacy (2025-11-25) Streamable HTTP session: its id. */
async function legacySession(url: string): Promise<string> {
  const init = await fetch(url, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  await init.text();
  const id = init.headers.get('mcp-session-id');
  if (id === null) throw new Error(`no session id (HTTP ${init.status})`);
  const headers = { ...HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  await (await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text();
  return id;
}

function legacyCall(url: string, session: string, id: number, name: string, args: object, progressToken?: string): Promise<Response> {
  const params = { name, arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) };
  return fetch(url, {
    method: 'POST',
    headers: { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }),
  });
}

/** The JSON-RPC message of a response: its JSON body, or the last `data:` event of its SSE stream. */
async function messageOf(response: Response): Promise<any> {
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return JSON.parse(text);
  const data = text.split('\n').filter((l) => l.startsWith('data:'));
  return JSON.parse(data[data.length - 1]!.slice(5));
}

describe('serve: a refusal while draining is retryable', () => {
  it('answers -32000 with data.retryAfterMs on draining WebSocket and legacy HTTP sessions, and 503 with Retry-After to a new modern exchange', async () => {
    const server = spawnServe(['--port', '0', '--log-level', 'info', '--quiet', '--drain-timeout', '5000']);
    const url = (await server.line(/^listening http:/)).slice('listening '.length);
    const origin = new URL(url).origin;
    const ws = await wsSession(origin);
    const session = await legacySession(url);
    // Work in flight keeps both sessions draining (not closed) once the shutdown starts: each call
    // asks for progress, and its first progress notification shows it is running.
    const wsSleep = ws.call(2, 'tools/call', { name: 'sleep', arguments: { ms: 1500 }, _meta: { progressToken: 'ws' } });
    await ws.progress;
    const legacySleep = await legacyCall(url, session, 2, 'sleep', { ms: 1500 }, 'legacy');
    const legacyBody = legacySleep.body!.getReader();
    expect(new TextDecoder().decode((await legacyBody.read()).value)).toContain('notifications/progress');

    server.child.kill('SIGTERM');
    await server.line(/"msg":"phase draining"/);

    const wsRefused = await ws.call(3, 'tools/call', { name: 'echo', arguments: { text: 'late' } });
    expect(wsRefused).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'Session is draining', data: { state: 'draining', retryAfterMs: 1000 } } });

    const legacyRefused = await legacyCall(url, session, 3, 'echo', { text: 'late' });
    expect(await messageOf(legacyRefused)).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'Session is draining', data: { state: 'draining', retryAfterMs: 1000 } } });

    const modern = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'echo', params: {} }) });
    expect(modern.status).toBe(503);
    expect(modern.headers.get('retry-after')).toBe('5');
    expect(await modern.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { data: { retryAfterMs: 5000 } } });

    // What was admitted before the drain is still answered.
    expect((await wsSleep).result.content[0].text).toBe('slept 1500 ms');
    let rest = '';
    for (let chunk = await legacyBody.read(); chunk.done !== true; chunk = await legacyBody.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toContain('slept 1500 ms');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    // Two initializes and the two sleeps; the refused requests never started a handler.
    expect(server.lastJson()).toMatchObject({ requests: 4, completed: 4 });
  });
});
