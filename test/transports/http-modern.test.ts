import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type MethodTable, type RequestContext, type Supervisor } from '../../src/index.js';
import type { Session } from '../../src/runtime/session.js';
import { HttpExchangeTransport, listenHttp, type HttpListener, type HttpServerOptions } from '../../src/transports/http.js';
import { createDeferred } from '../helpers/deferred.js';
import { createInvariantChecker, type InvariantChecker } from '../helpers/invariants.js';
import { openSse, post, POST_HEADERS, raw } from './http-harness.js';

/** A gate the test opens by hand. */
function gate(): { promise: Promise<void>; open(): void } {
  const deferred = createDeferred<void>();
  return { promise: deferred.promise, open: () => deferred.resolve() };
}

let release = gate();
/** After a cancel, the handler tries to write: the guard must block it. */
let lateNotifies: boolean[] = [];
/** The context of the running `flood` call. */
const ctxOf: { current: RequestContext | undefined } = { current: undefined };

const methods: MethodTable = {
  echo: (params) => params,
  /** Streams a progress notification, then answers once the gate opens. */
  streamed: async (params, ctx) => {
    ctx.session.notify('notifications/progress', { progress: 1 });
    await release.promise;
    return params;
  },
  /** Streams one notification, then waits for its cancel and tries to write after it. */
  hang: (_params, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.session.notify('notifications/progress', { progress: 0 });
      ctx.onCancel((reason) => {
        lateNotifies.push(ctx.session.notify('notifications/progress', { progress: 2 }));
        reject(reason);
      });
    }),
  /** Streams 64 KiB notifications until the guard blocks one (bounded: 2000 at most). */
  flood: async (_params, ctx) => {
    ctxOf.current = ctx;
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 2000; i += 1) {
      if (!ctxOf.current?.session.notify('notifications/message', { data: chunk })) return i;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return 2000;
  },
  /** Waits for the gate without streaming anything (the answer stays JSON). */
  quiet: async () => {
    await release.promise;
    return 'late';
  },
};

let listener: HttpListener | undefined;
let supervisor: Supervisor | undefined;
let checker: InvariantChecker | undefined;

async function start(options: HttpServerOptions = {}): Promise<{ listener: HttpListener; supervisor: Supervisor; checker: InvariantChecker }> {
  checker = createInvariantChecker();
  supervisor = createSupervisor({ methods: checker.wrap(methods), inspect: checker.inspect, logger: checker.logger });
  checker.watch(supervisor);
  listener = await listenHttp(supervisor, options);
  return { listener, supervisor, checker };
}

afterEach(async () => {
  release.open();
  release = gate();
  lateNotifies = [];
  if (supervisor !== undefined) await supervisor.close();
  if (listener !== undefined) await listener.close();
  if (checker !== undefined) expect(checker.finalViolations()).toEqual([]);
  listener = undefined;
  supervisor = undefined;
  checker = undefined;
});

/** The transport of the next session the supervisor opens. */
function nextExchange(s: Supervisor): Promise<HttpExchangeTransport> {
  return new Promise((resolve) => {
    const off = s.on('session.opened', ({ sessionId }) => {
      off();
      const session = s.sessions().find((candidate: Session) => candidate.id === sessionId);
      resolve(session?.transport as HttpExchangeTransport);
    });
  });
}

describe('modern exchanges (2026-07-28): one POST, one short-lived session', () => {
  it('answers a request with JSON when the answer is the first frame, and closes the session', async () => {
    const { listener, supervisor } = await start();
    const response = await post(listener.url, { jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { a: 1 } });
    await supervisor.drain();
    expect(supervisor.stats().sessions.total).toBe(1);
    expect(supervisor.stats().completed).toBe(1);
    expect(listener.stats().exchanges).toEqual({ open: 0, total: 1, aborted: 0 });
  });

  it('drops (and counts) a frame offered to the transport after its response ended, writing nothing', async () => {
    const { listener, supervisor } = await start();
    const exchange = nextExchange(supervisor);
    const response = await post(listener.url, { jsonrpc: '2.0', id: 2, method: 'echo', params: ['x'] });
    const transport = await exchange;
    expect(response.text).toBe('{"jsonrpc":"2.0","id":2,"result":["x"]}');
    expect(transport.outputOpen).toBe(false);
    // Bypass the runtime's guard: the transport itself must not write to the finished response.
    transport.send('{"jsonrpc":"2.0","method":"late"}');
    transport.send('{"jsonrpc":"2.0","id":2,"result":"again"}');
    expect(transport.writesAfterClose).toBe(2);
  });

  it('switches to SSE with X-Accel-Buffering: no when a notification goes out before the answer', async () => {
    const { listener } = await start();
    const reader = await openSse(listener.url, {
      headers: POST_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 'a', method: 'streamed', params: { b: 2 } }),
    });
    expect(reader.status).toBe(200);
    expect(reader.headers['content-type']).toBe('text/event-stream');
    expect(reader.headers['x-accel-buffering']).toBe('no');
    expect(JSON.parse((await reader.next()).data)).toEqual({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1 } });
    release.open();
    expect(JSON.parse((await reader.next()).data)).toEqual({ jsonrpc: '2.0', id: 'a', result: { b: 2 } });
    expect(await reader.rest()).toEqual([]);
  });

  it('answers 202 with no body to a POST of a notification', async () => {
    const { listener, supervisor } = await start();
    const response = await post(listener.url, { jsonrpc: '2.0', method: 'echo', params: {} });
    expect(response.status).toBe(202);
    expect(response.text).toBe('');
    await supervisor.drain();
    expect(supervisor.stats().requests).toBe(0);
  });

  it('cancels the handler of an aborted SSE exchange exactly once with transport-closed, and writes nothing after', async () => {
    const { listener, supervisor, checker } = await start();
    const cancels: string[] = [];
    supervisor.on('request.cancelled', ({ reason }) => cancels.push(reason));
    const exchange = nextExchange(supervisor);
    const reader = await openSse(listener.url, { headers: POST_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'hang' }) });
    expect(JSON.parse((await reader.next()).data)).toMatchObject({ method: 'notifications/progress' });
    const transport = await exchange;
    const sessionClosed = new Promise((resolve) => supervisor.on('session.closed', resolve));
    reader.drop();
    await sessionClosed;
    expect(cancels).toEqual(['transport-closed']);
    expect(checker.calls).toHaveLength(1);
    expect(checker.calls[0]!.signal.aborted).toBe(true);
    expect(lateNotifies).toEqual([false]);
    expect(transport.aborted).toBe(true);
    expect(transport.writesAfterClose).toBe(0);
    expect(transport.outputOpen).toBe(false);
    expect(supervisor.stats().cancelled['transport-closed']).toBe(1);
    expect(supervisor.stats().blockedSends).toBeGreaterThanOrEqual(1);
    expect(listener.stats().exchanges.aborted).toBe(1);
    expect(listener.stats().writesAfterClose).toBe(0);
    checker.assertHolds();
  });

  it('cancels a JSON exchange whose client leaves before the answer, and the late answer never reaches the response', async () => {
    const { listener, supervisor, checker } = await start();
    const exchange = nextExchange(supervisor);
    const cancelled = new Promise((resolve) => supervisor.on('request.cancelled', resolve));
    const target = new URL(listener.url);
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: POST_HEADERS, agent: false });
    req.on('error', () => {});
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'quiet' }));
    const transport = await exchange;
    expect(transport.request.complete).toBe(true);
    req.destroy();
    await cancelled;
    release.open();
    await supervisor.drain();
    expect(supervisor.stats().cancelled['transport-closed']).toBe(1);
    expect(transport.aborted).toBe(true);
    expect(transport.writesAfterClose).toBe(0);
    expect(checker.calls[0]!.signal.aborted).toBe(true);
  });

  it('drops the response of a client that reads too slowly, which cancels the exchange', async () => {
    const { listener, supervisor } = await start({ maxBufferedBytes: 256 * 1024 });
    const exchange = nextExchange(supervisor);
    const cancelled = new Promise<{ reason: string }>((resolve) => supervisor.on('request.cancelled', resolve));
    const target = new URL(listener.url);
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: POST_HEADERS, agent: false });
    req.on('error', () => {});
    // The client takes the response headers and then never reads.
    req.on('response', (res) => res.pause());
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'flood' }));
    expect((await cancelled).reason).toBe('transport-closed');
    const transport = await exchange;
    expect(transport.aborted).toBe(true);
    expect(transport.writesAfterClose).toBe(0);
    req.destroy();
  });

  it('maps a JSON-RPC error of a JSON answer to the 2026-07-28 status: -32601 → 404', async () => {
    const { listener } = await start();
    const response = await post(listener.url, { jsonrpc: '2.0', id: 3, method: 'nope' });
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ id: 3, error: { code: -32601 } });
  });

  it('refuses GET and DELETE without a session with 405 and Allow: POST', async () => {
    const { listener } = await start();
    for (const method of ['GET', 'DELETE', 'PUT']) {
      const response = await raw(listener.url, { method, headers: { accept: 'text/event-stream' } });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('POST');
    }
    expect(listener.stats().refused[405]).toBe(3);
  });
});

describe('modern request metadata headers (SEP-2243)', () => {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
  const call = { jsonrpc: '2.0', id: 5, method: 'echo', params: { name: 'weather', _meta: meta } };
  const good = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'echo' };

  it('admits a request whose headers match its body (names case-insensitive, values trimmed)', async () => {
    const { listener } = await start();
    const response = await post(listener.url, call, { 'MCP-PROTOCOL-VERSION': '2026-07-28', 'mcp-method': '  echo  ' });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ id: 5, result: { name: 'weather' } });
  });

  it.each([
    ['a Mcp-Method that differs from the body', { ...good, 'mcp-method': 'tools/list' }],
    ['a Mcp-Method in another case', { ...good, 'mcp-method': 'ECHO' }],
    ['a missing Mcp-Method on a modern request', { 'mcp-protocol-version': '2026-07-28' }],
    ['a missing MCP-Protocol-Version when _meta has one', { 'mcp-method': 'echo' }],
    ['an MCP-Protocol-Version that differs from _meta', { ...good, 'mcp-protocol-version': '2025-11-25' }],
  ])('refuses %s with 400 and -32020, before any session', async (_name, headers) => {
    const { listener, supervisor } = await start();
    const response = await post(listener.url, call, headers);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ jsonrpc: '2.0', id: 5, error: { code: -32020 } });
    expect(supervisor.stats().sessions.total).toBe(0);
  });

  it('checks Mcp-Name against params.name of tools/call, decoding the Base64 sentinel', async () => {
    const { listener } = await start();
    const body = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'héllo', _meta: meta } };
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' };
    const encoded = `=?base64?${Buffer.from('héllo').toString('base64')}?=`;
    // Matching name: admitted (the plain table has no tools/call: -32601 → 404 proves it got through).
    expect((await post(listener.url, body, { ...headers, 'mcp-name': encoded })).status).toBe(404);
    const wrong = await post(listener.url, body, { ...headers, 'mcp-name': 'other' });
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({ error: { code: -32020 } });
    const missing = await post(listener.url, body, headers);
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ error: { code: -32020 } });
  });

  it('runs the checkHeaders hook after the standard checks (e.g. Mcp-Param-* headers)', async () => {
    const { listener } = await start({
      checkHeaders: (request, message) => {
        const region = (message as { params?: { region?: string } }).params?.region;
        return region !== undefined && request.headers['mcp-param-region'] !== region ? 'Mcp-Param-Region does not match' : undefined;
      },
    });
    const body = { jsonrpc: '2.0', id: 6, method: 'echo', params: { region: 'us-west1' } };
    const refused = await post(listener.url, body, { 'mcp-param-region': 'eu' });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ id: 6, error: { code: -32020, message: 'Header mismatch: Mcp-Param-Region does not match' } });
    expect((await post(listener.url, body, { 'mcp-param-region': 'us-west1' })).status).toBe(200);
  });

  it.each([
    ['without', undefined],
    ['after', () => true],
  ])('answers 500 when a checkHeaders hook throws (%s an authenticate hook), and the server goes on', async (_label, authenticate) => {
    let throwNext = true;
    const { listener } = await start({
      ...(authenticate === undefined ? {} : { authenticate }),
      checkHeaders: () => {
        if (throwNext) {
          throwNext = false;
          throw new Error('hook bug');
        }
        return undefined;
      },
    });
    const body = { jsonrpc: '2.0', id: 8, method: 'echo', params: { a: 1 } };
    const failed = await post(listener.url, body);
    expect(failed.status).toBe(500);
    expect(failed.json()).toMatchObject({ error: { code: -32603 } });
    const next = await post(listener.url, body);
    expect(next.status).toBe(200);
    expect(next.json()).toMatchObject({ id: 8, result: { a: 1 } });
  });

  it('leaves a plain JSON-RPC request without MCP headers alone', async () => {
    const { listener } = await start();
    const response = await post(listener.url, { jsonrpc: '2.0', id: 1, method: 'echo', params: [1] });
    expect(response.status).toBe(200);
  });
});
