import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Supervisor } from '../../src/index.js';
import { createMcpServer, defineTool } from '../../src/mcp/index.js';
import { listenHttp, type HttpListener, type HttpServerOptions } from '../../src/transports/http.js';
import { createTestClock } from '../../src/runtime/clock.js';
import { createDeferred } from '../helpers/deferred.js';
import { createInvariantChecker, type InvariantChecker } from '../helpers/invariants.js';
import { openSse, post, POST_HEADERS, raw, type RawResponse } from './http-harness.js';

/** A gate the test opens by hand. */
function gate(): { promise: Promise<void>; open(): void } {
  const deferred = createDeferred<void>();
  return { promise: deferred.promise, open: () => deferred.resolve() };
}

let release = gate();
let started = gate();

const tools = [
  defineTool({ name: 'echo', input: z.object({ text: z.string() }), run: ({ text }) => text }),
  defineTool({
    name: 'slow',
    input: z.object({}),
    run: async (_args, ctx) => {
      ctx.progress(1, 2, 'half way');
      started.open();
      await release.promise;
      return 'finished';
    },
  }),
];

let listener: HttpListener | undefined;
let server: Supervisor | undefined;
let checker: InvariantChecker | undefined;

async function start(options: HttpServerOptions = {}): Promise<{ listener: HttpListener; server: Supervisor; checker: InvariantChecker }> {
  checker = createInvariantChecker();
  server = createMcpServer({ name: 'test', version: '1.0.0', tools, inspect: checker.inspect, logger: checker.logger });
  checker.watch(server);
  listener = await listenHttp(server, options);
  return { listener, server, checker };
}

afterEach(async () => {
  release.open();
  release = gate();
  started = gate();
  if (server !== undefined) await server.close();
  if (listener !== undefined) await listener.close();
  if (checker !== undefined) expect(checker.finalViolations()).toEqual([]);
  listener = undefined;
  server = undefined;
  checker = undefined;
});

const VERSION = '2025-11-25';

async function initialize(url: string, version = VERSION): Promise<{ sessionId: string; response: RawResponse }> {
  const response = await post(url, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'test', version: '1' } },
  });
  expect(response.status).toBe(200);
  const sessionId = response.headers['mcp-session-id'];
  expect(typeof sessionId).toBe('string');
  const initialized = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sessionId as string, 'mcp-protocol-version': version });
  expect(initialized.status).toBe(202);
  return { sessionId: sessionId as string, response };
}

function sessionHeaders(sessionId: string, version = VERSION): Record<string, string> {
  return { 'mcp-session-id': sessionId, 'mcp-protocol-version': version };
}

describe('legacy sessions (2025-11-25 and before): initialize, requests, GET, DELETE', () => {
  it('creates a session with an unguessable Mcp-Session-Id that outlives single POSTs', async () => {
    const { listener, server } = await start();
    const { sessionId, response } = await initialize(listener.url);
    expect(sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(response.json()).toMatchObject({ id: 0, result: { protocolVersion: VERSION, serverInfo: { name: 'test' } } });
    const second = await initialize(listener.url);
    expect(second.sessionId).not.toBe(sessionId);
    for (let id = 1; id <= 3; id += 1) {
      const call = await post(
        listener.url,
        { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `t${id}` } } },
        sessionHeaders(sessionId),
      );
      expect(call.status).toBe(200);
      const events = call.headers['content-type'] === 'text/event-stream' ? call.text : call.text;
      expect(events).toContain(`"text":"t${id}"`);
    }
    expect(server.stats().sessions.total).toBe(2);
    expect(listener.stats().sessions).toMatchObject({ open: 2, created: 2 });
  });

  it('answers 404 for an unknown session and 400 for a legacy request without a session id', async () => {
    const { listener } = await start();
    const unknown = await post(listener.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionHeaders('not-a-session'));
    expect(unknown.status).toBe(404);
    const missing = await post(listener.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': VERSION });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ id: null, error: { code: -32600 } });
    const getUnknown = await raw(listener.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': 'nope' } });
    expect(getUnknown.status).toBe(404);
  });

  it('answers 400 to an MCP-Protocol-Version this server does not speak', async () => {
    const { listener } = await start();
    const { sessionId } = await initialize(listener.url);
    const response = await post(listener.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, sessionHeaders(sessionId, '1999-01-01'));
    expect(response.status).toBe(400);
  });

  it('DELETE drains then closes the session; afterwards its id is 404', async () => {
    const { listener, server } = await start();
    const { sessionId } = await initialize(listener.url);
    const call = openSse(listener.url, {
      headers: { ...POST_HEADERS, ...sessionHeaders(sessionId) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: { progressToken: 'p' } } }),
    });
    await started.promise;
    const closed = new Promise((resolve) => server.on('session.closed', resolve));
    const deleted = await raw(listener.url, { method: 'DELETE', headers: sessionHeaders(sessionId) });
    expect(deleted.status).toBe(200);
    const again = await post(listener.url, { jsonrpc: '2.0', id: 6, method: 'tools/list' }, sessionHeaders(sessionId));
    expect(again.status).toBe(404);
    // Draining: the in-flight call still gets its answer.
    release.open();
    const events = await (await call).rest();
    expect(events.map((e) => e.data).join('\n')).toContain('"finished"');
    await closed;
    expect(server.stats().cancelled['transport-closed']).toBe(0);
    expect(listener.stats().sessions).toMatchObject({ open: 0, deleted: 1 });
    const afterClose = await raw(listener.url, { method: 'DELETE', headers: sessionHeaders(sessionId) });
    expect(afterClose.status).toBe(404);
  });

  it('carries server messages on the standalone GET stream and refuses a second one with 409', async () => {
    const { listener, server } = await start();
    const { sessionId } = await initialize(listener.url);
    const stream = await openSse(listener.url, { method: 'GET', headers: { accept: 'text/event-stream', ...sessionHeaders(sessionId) } });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['mcp-session-id']).toBe(sessionId);
    const second = await raw(listener.url, { method: 'GET', headers: { accept: 'text/event-stream', ...sessionHeaders(sessionId) } });
    expect(second.status).toBe(409);
    const session = server.sessions()[0]!;
    expect(session.notify('notifications/tools/list_changed')).toBe(true);
    let event = await stream.next();
    if (event.data === '') event = await stream.next(); // the priming event
    expect(JSON.parse(event.data)).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    const noSse = await raw(listener.url, { method: 'GET', headers: { accept: 'application/json', ...sessionHeaders(sessionId) } });
    expect(noSse.status).toBe(406);
    stream.drop();
  });
});

describe('legacy streams: a dropped stream does not cancel; the answer comes on resume', () => {
  it('keeps the handler running after the POST stream drops and replays the rest after Last-Event-ID', async () => {
    const { listener, server } = await start();
    const { sessionId } = await initialize(listener.url);
    const cancels: string[] = [];
    server.on('request.cancelled', ({ reason }) => cancels.push(reason));
    const stream = await openSse(listener.url, {
      headers: { ...POST_HEADERS, ...sessionHeaders(sessionId) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: {}, _meta: { progressToken: 'tok' } } }),
    });
    expect(stream.headers['content-type']).toBe('text/event-stream');
    const priming = await stream.next();
    expect(priming.data).toBe('');
    expect(priming.id).toBeDefined();
    const progress = await stream.next();
    expect(JSON.parse(progress.data)).toMatchObject({ method: 'notifications/progress', params: { progressToken: 'tok', progress: 1 } });
    await started.promise;
    stream.drop();
    await stream.ended;
    // The client is gone; the handler runs on and answers into the event store.
    const answered = new Promise((resolve) => server.on('request.completed', resolve));
    release.open();
    await answered;
    expect(cancels).toEqual([]);
    const resumed = await openSse(listener.url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': progress.id!, ...sessionHeaders(sessionId) },
    });
    expect(resumed.status).toBe(200);
    const rest = await resumed.rest();
    expect(rest).toHaveLength(1);
    expect(JSON.parse(rest[0]!.data)).toMatchObject({ jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'finished' }] } });
    expect(server.stats().cancelled['transport-closed']).toBe(0);
    expect(listener.stats().writesAfterClose).toBe(0);
    // Resuming again replays the same answer (nothing is lost if the first resume broke too).
    const again = await openSse(listener.url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': progress.id!, ...sessionHeaders(sessionId) },
    });
    expect((await again.rest()).map((event) => event.id)).toEqual([rest[0]!.id]);
    // Once the session is gone, so are its streams.
    const closed = new Promise((resolve) => server.on('session.closed', resolve));
    expect((await raw(listener.url, { method: 'DELETE', headers: sessionHeaders(sessionId) })).status).toBe(200);
    await closed;
    const gone = await raw(listener.url, { method: 'GET', headers: { accept: 'text/event-stream', 'last-event-id': progress.id!, ...sessionHeaders(sessionId) } });
    expect(gone.status).toBe(404);
  });

  it('reads what a closed stream means from the disconnect policy rows (data): a cancel row cancels', async () => {
    const { listener, server } = await start({
      disconnectPolicy: [{ transport: 'streamable-http', since: '0000-00-00', action: 'cancel', why: 'test: every disconnect cancels' }],
    });
    const { sessionId } = await initialize(listener.url);
    const cancelled = new Promise<{ reason: string }>((resolve) => server.on('request.cancelled', resolve));
    const stream = await openSse(listener.url, {
      headers: { ...POST_HEADERS, ...sessionHeaders(sessionId) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'slow', arguments: {} } }),
    });
    await stream.next(); // priming
    await started.promise;
    stream.drop();
    expect((await cancelled).reason).toBe('transport-closed');
    expect(listener.stats().writesAfterClose).toBe(0);
  });

  it('refuses a Last-Event-ID of another session with 404', async () => {
    const { listener } = await start();
    const a = await initialize(listener.url);
    const b = await initialize(listener.url);
    const stream = await openSse(listener.url, {
      headers: { ...POST_HEADERS, ...sessionHeaders(a.sessionId) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } }),
    });
    const priming = await stream.next();
    stream.drop();
    const foreign = await raw(listener.url, { method: 'GET', headers: { accept: 'text/event-stream', 'last-event-id': priming.id!, ...sessionHeaders(b.sessionId) } });
    expect(foreign.status).toBe(404);
  });
});

describe('legacy sessions cannot leak', () => {
  it('answers initialize beyond maxSessions with 503 and Retry-After', async () => {
    const { listener } = await start({ maxSessions: 2, retryAfterSeconds: 7 });
    await initialize(listener.url);
    await initialize(listener.url);
    const third = await post(listener.url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: VERSION, capabilities: {} } });
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('7');
    expect(listener.stats().sessions).toMatchObject({ open: 2, refused: 1 });
  });

  it('closes a session idle past sessionIdleTimeoutMs, and not one with a request in flight', async () => {
    // The reaper runs on the listener's timers, here a manual clock: it sweeps only when the test
    // advances it, after both sessions are set up, so a slow machine cannot reap the busy session
    // between its initialize and its call. Idleness itself is wall time (Date.now()).
    const clock = createTestClock();
    const { listener, server } = await start({ sessionIdleTimeoutMs: 40, timers: clock });
    const closed = new Promise<{ reason: unknown }>((resolve) => server.on('session.closed', resolve));
    const idle = await initialize(listener.url);
    const busy = await initialize(listener.url);
    const call = openSse(listener.url, {
      headers: { ...POST_HEADERS, ...sessionHeaders(busy.sessionId) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } }),
    });
    await started.promise;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(listener.stats().sessions).toMatchObject({ open: 2, expired: 0 });
    clock.advance(10); // one sweep (the period is a quarter of the idle timeout)
    expect((await closed).reason).toBeNull();
    expect(listener.stats().sessions).toMatchObject({ open: 1, expired: 1 });
    expect((await post(listener.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionHeaders(idle.sessionId))).status).toBe(404);
    // The busy one is still there and still answers.
    const list = await post(listener.url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionHeaders(busy.sessionId));
    expect(list.status).toBe(200);
    release.open();
    await (await call).rest();
  });
});
