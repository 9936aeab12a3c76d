import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import type { CancelReason } from '../../machines/reasons.js';
import { demoTools } from '../../src/demo/tools.js';
import { createSupervisor, createTestClock, JsonRpcError, type Dialect, type Supervisor, type SupervisorEvents, type TestClock } from '../../src/index.js';
import { mcpDialect, mcpMethods } from '../../src/mcp/index.js';
import { traceSupervisor, TRACE_ATTRIBUTES as A, TRACE_EVENTS, type SupervisorTracing } from '../../src/observability/tracing.js';
import { listenWebSocket, type WebSocketListener } from '../../src/transports/ws.js';

// Node 20 has no global WebSocket: the SDK's WebSocketClientTransport uses ws's.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** The MCP dialect, except that admitting `explode` throws: a dialect bug that fails its session. */
const buggyDialect: Dialect = {
  ...mcpDialect,
  admit: (request, session) => {
    if (request.method === 'explode') throw new Error('dialect bug');
    return mcpDialect.admit?.(request, session);
  },
};

interface Rig {
  supervisor: Supervisor;
  listener: WebSocketListener;
  clock: TestClock;
  exporter: InMemorySpanExporter;
  tracing: SupervisorTracing;
  clients: Client[];
}

let rig: Rig | undefined;
let letStubbornAnswer: (() => void) | undefined;

afterEach(async () => {
  letStubbornAnswer?.();
  letStubbornAnswer = undefined;
  const r = rig;
  rig = undefined;
  trace.disable();
  propagation.disable();
  if (r === undefined) return;
  await Promise.allSettled(r.clients.map((c) => c.close()));
  if (r.supervisor.state !== 'stopped') await r.supervisor.close();
  await r.listener.close();
  r.tracing.stop();
});

/** A supervisor with the MCP methods and demo tools on ws://127.0.0.1:0, traced into an in-memory exporter. */
async function start(options: { global?: boolean; limits?: { requestTimeoutMs?: number; drainTimeoutMs?: number } } = {}): Promise<Rig> {
  const clock = createTestClock();
  const mcp = mcpMethods({ name: 'traced', version: '1.0.0', tools: demoTools });
  const supervisor = createSupervisor({
    clock,
    dialect: buggyDialect,
    notifications: mcp.notifications,
    methods: {
      ...mcp.methods,
      boom: () => {
        throw new Error('kaboom');
      },
      refuse: () => {
        throw new JsonRpcError(-32099, 'refused on purpose');
      },
      explode: () => 'never runs',
      /** Ignores its cancel; answers (late) when the test lets it. */
      stubborn: () =>
        new Promise((resolve) => {
          letStubbornAnswer = () => resolve('late');
        }),
    },
    limits: { drainTimeoutMs: 1_000, ...options.limits },
  });
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let tracing: SupervisorTracing;
  if (options.global === true) {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    tracing = traceSupervisor(supervisor);
  } else {
    tracing = traceSupervisor(supervisor, { tracer: provider.getTracer('test'), propagator: new W3CTraceContextPropagator() });
  }
  const listener = await listenWebSocket(supervisor, { host: '127.0.0.1', port: 0 });
  rig = { supervisor, listener, clock, exporter, tracing, clients: [] };
  return rig;
}

async function connect(r: Rig): Promise<Client> {
  const client = new Client({ name: 'tracing-test', version: '1.0.0' });
  r.clients.push(client);
  await client.connect(new WebSocketClientTransport(new URL(r.listener.url)));
  return client;
}

/** Resolves with the next event of `type` that matches `match`. */
function next<K extends keyof SupervisorEvents>(supervisor: Supervisor, type: K, match: (event: SupervisorEvents[K]) => boolean = () => true): Promise<SupervisorEvents[K]> {
  return new Promise((resolve) => {
    const off = supervisor.on(type, (event) => {
      if (!match(event)) return;
      off();
      resolve(event);
    });
  });
}

const startedTool = (supervisor: Supervisor, tool: string): Promise<SupervisorEvents['request.started']> =>
  next(supervisor, 'request.started', (e) => e.method === 'tools/call' && (e.params as { name?: unknown }).name === tool);

/** The one finished span named `name`. */
function only(r: Rig, name: string): ReadableSpan {
  const spans = r.exporter.getFinishedSpans().filter((s) => s.name === name);
  expect(spans.map((s) => s.name)).toEqual([name]);
  return spans[0]!;
}

/** Start a `sleep` call that only a cancel ends; resolves once its handler runs. */
async function sleeping(r: Rig, client: Client): Promise<{ started: SupervisorEvents['request.started']; settled: Promise<unknown> }> {
  const started = startedTool(r.supervisor, 'sleep');
  const settled = client.callTool({ name: 'sleep', arguments: { ms: 3_600_000 } }).then(
    (value) => value,
    (error: unknown) => error,
  );
  return { started: await started, settled };
}

function expectCancel(span: ReadableSpan, reason: CancelReason): void {
  expect(span.kind).toBe(SpanKind.SERVER);
  expect(span.attributes[A.outcome]).toBe('cancelled');
  expect(span.attributes[A.cancelReason]).toBe(reason);
  const cancels = span.events.filter((e) => e.name === TRACE_EVENTS.cancelled);
  expect(cancels.map((e) => e.attributes?.[A.cancelReason])).toEqual([reason]);
}

describe('traceSupervisor over WebSocket with the official SDK client', () => {
  it('makes one server span per request, parented by the traceparent in _meta, with the MCP attributes', async () => {
    const r = await start({ global: true });
    const client = await connect(r);
    const result = await client.callTool({
      name: 'echo',
      arguments: { text: 'hi' },
      _meta: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`, tracestate: 'rojo=00f067aa0ba902b7' },
    });
    expect(result).toEqual({ content: [{ type: 'text', text: 'hi' }] });

    const span = only(r, 'tools/call echo');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.spanContext().traceState?.get('rojo')).toBe('00f067aa0ba902b7');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const sessionId = r.supervisor.sessions()[0]!.id;
    expect(span.attributes).toMatchObject({
      [A.mcpMethod]: 'tools/call',
      [A.rpcSystem]: 'jsonrpc',
      [A.rpcMethod]: 'tools/call',
      [A.requestId]: expect.any(String),
      [A.toolName]: 'echo',
      [A.operationName]: 'execute_tool',
      [A.sessionId]: sessionId,
      [A.mcpSessionId]: sessionId,
      [A.transport]: 'ws',
      [A.networkTransport]: 'tcp',
      [A.networkProtocol]: 'websocket',
      [A.outcome]: 'result',
    });
    expect(span.attributes[A.rpcRequestId]).toBe(span.attributes[A.requestId]);
    expect(span.attributes[A.errorType]).toBeUndefined();

    // initialize ran before the tool call and has its own root span (no _meta).
    const init = only(r, 'initialize');
    expect(init.parentSpanContext).toBeUndefined();
    expect(init.spanContext().traceId).not.toBe(TRACE_ID);
    expect(r.tracing.openSpans).toBe(0);
  });

  it('marks a failed request ERROR with the JSON-RPC code as error.type, a thrown error as -32603 with the exception', async () => {
    const r = await start();
    const client = await connect(r);
    await expect(client.callTool({ name: 'echo', arguments: { text: 3 } })).rejects.toThrow(/-32602/);
    await expect(client.request({ method: 'refuse', params: {} }, z.unknown())).rejects.toThrow(/refused on purpose/);
    await expect(client.request({ method: 'boom', params: {} }, z.unknown())).rejects.toThrow(/Internal error/);

    const badArgs = only(r, 'tools/call echo');
    expect(badArgs.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.any(String) });
    expect(badArgs.attributes).toMatchObject({ [A.outcome]: 'error', [A.errorType]: '-32602', [A.responseStatusCode]: '-32602' });

    const refused = only(r, 'refuse');
    expect(refused.status).toEqual({ code: SpanStatusCode.ERROR, message: 'refused on purpose' });
    expect(refused.attributes).toMatchObject({ [A.errorType]: '-32099', [A.responseStatusCode]: '-32099' });
    expect(refused.events).toEqual([]);

    const boom = only(r, 'boom');
    expect(boom.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Internal error' });
    expect(boom.attributes).toMatchObject({ [A.outcome]: 'error', [A.errorType]: '-32603' });
    expect(boom.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'kaboom']]);
  });

  it('a client cancel: an event and attribute, status UNSET (the client chose it), the span ends at the cancel', async () => {
    const r = await start();
    const client = await connect(r);
    const controller = new AbortController();
    const started = startedTool(r.supervisor, 'sleep');
    const call = client.callTool({ name: 'sleep', arguments: { ms: 3_600_000 } }, undefined, { signal: controller.signal });
    await started;
    const cancelled = next(r.supervisor, 'request.cancelled');
    controller.abort('the test cancels');
    await expect(call).rejects.toThrow();
    expect((await cancelled).reason).toBe('client');
    const span = only(r, 'tools/call sleep');
    expectCancel(span, 'client');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes[A.errorType]).toBeUndefined();
    // The session goes on.
    expect(await client.callTool({ name: 'echo', arguments: { text: 'still here' } })).toEqual({ content: [{ type: 'text', text: 'still here' }] });
  });

  it('a request timeout: ERROR, error.type request-timeout', async () => {
    const r = await start({ limits: { requestTimeoutMs: 500 } });
    const client = await connect(r);
    const { settled } = await sleeping(r, client);
    const cancelled = next(r.supervisor, 'request.cancelled');
    r.clock.advance(500);
    expect((await cancelled).reason).toBe('request-timeout');
    expect(await settled).toBeInstanceOf(Error);
    const span = only(r, 'tools/call sleep');
    expectCancel(span, 'request-timeout');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'cancelled: request-timeout' });
    expect(span.attributes[A.errorType]).toBe('request-timeout');
  });

  it('the client going away: transport-closed, not an error, and the session close as an event', async () => {
    const r = await start();
    const client = await connect(r);
    const { started } = await sleeping(r, client);
    const closed = next(r.supervisor, 'session.closed', (e) => e.sessionId === started.sessionId);
    await client.close();
    expect((await closed).reason).toBe('transport-closed');
    const span = only(r, 'tools/call sleep');
    expectCancel(span, 'transport-closed');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events.map((e) => e.name)).toEqual([TRACE_EVENTS.cancelled, TRACE_EVENTS.sessionClosed]);
    expect(span.events[1]!.attributes?.[A.closeReason]).toBe('transport-closed');
  });

  it('a drain past its deadline: the drain, the drain-timeout cancel and the close, in order', async () => {
    const r = await start();
    const client = await connect(r);
    const { started, settled } = await sleeping(r, client);
    const draining = next(r.supervisor, 'session.draining');
    const drained = r.supervisor.drain();
    expect((await draining).reason).toBe('shutdown');
    const closed = next(r.supervisor, 'session.closed', (e) => e.sessionId === started.sessionId);
    r.clock.advance(1_000);
    expect((await closed).reason).toBe('drain-timeout');
    await drained;
    expect(await settled).toBeInstanceOf(Error);
    const span = only(r, 'tools/call sleep');
    expectCancel(span, 'drain-timeout');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'cancelled: drain-timeout' });
    expect(span.events.map((e) => [e.name, e.attributes?.[A.drainReason] ?? e.attributes?.[A.cancelReason]])).toEqual([
      [TRACE_EVENTS.sessionDraining, 'shutdown'],
      [TRACE_EVENTS.cancelled, 'drain-timeout'],
      [TRACE_EVENTS.sessionClosed, 'shutdown'],
    ]);
  });

  it('a shutdown: ERROR, error.type shutdown', async () => {
    const r = await start();
    const client = await connect(r);
    const { settled } = await sleeping(r, client);
    await r.supervisor.close();
    expect(await settled).toBeInstanceOf(Error);
    const span = only(r, 'tools/call sleep');
    expectCancel(span, 'shutdown');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'cancelled: shutdown' });
    expect(span.events.at(-1)?.name).toBe(TRACE_EVENTS.sessionClosed);
  });

  it('a failed session: its in-flight request is cancelled session-failed, ERROR', async () => {
    const r = await start();
    const client = await connect(r);
    const { started } = await sleeping(r, client);
    const closed = next(r.supervisor, 'session.closed', (e) => e.sessionId === started.sessionId);
    void client.request({ method: 'explode', params: {} }, z.unknown()).catch(() => undefined);
    expect(await closed).toMatchObject({ reason: 'session-failed', failed: true });
    const span = only(r, 'tools/call sleep');
    expectCancel(span, 'session-failed');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'cancelled: session-failed' });
    // The refused request never started a handler: no span for it.
    expect(r.exporter.getFinishedSpans().filter((s) => s.name === 'explode')).toEqual([]);
  });

  it('a handler that ignores its cancel: the span ends when it is abandoned, with an event', async () => {
    const r = await start();
    const client = await connect(r);
    const started = next(r.supervisor, 'request.started', (e) => e.method === 'stubborn');
    void client.request({ method: 'stubborn', params: {} }, z.unknown()).catch(() => undefined);
    await started;
    const abandoned = next(r.supervisor, 'handler.abandoned');
    const closing = r.supervisor.close();
    r.clock.advance(r.supervisor.limits.cancelGraceMs);
    expect((await abandoned).reason).toBe('shutdown');
    await closing;
    const span = only(r, 'stubborn');
    expect(span.attributes[A.outcome]).toBe('abandoned');
    expect(span.events.map((e) => e.name)).toEqual([TRACE_EVENTS.cancelled, TRACE_EVENTS.abandoned]);
  });

  it('listens to no request while no tracer provider is registered, and traces the sessions opened after one is', async () => {
    const supervisor = createSupervisor({ methods: { wait: (_p, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true })), ping: () => 'pong' } });
    const tracing = traceSupervisor(supervisor);
    const listener = await listenWebSocket(supervisor, { host: '127.0.0.1', port: 0 });
    try {
      const socket = new WebSocket(listener.url);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const started = next(supervisor, 'request.started');
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'wait', params: { _meta: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` } } }));
      await started;
      expect(supervisor.stats().inFlight).toBe(1);
      expect(tracing.openSpans).toBe(0);

      // A provider registered later: the next session's requests are traced.
      const exporter = new InMemorySpanExporter();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      const second = new WebSocket(listener.url);
      await new Promise((resolve, reject) => second.once('open', resolve).once('error', reject));
      const completed = next(supervisor, 'request.completed');
      second.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }));
      await completed;
      expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes[A.requestId], s.instrumentationScope.name])).toEqual([['ping', '2', 'session-supervisor']]);
      second.terminate();
      socket.terminate();
    } finally {
      await supervisor.close();
      await listener.close();
      tracing.stop();
    }
  });
});
