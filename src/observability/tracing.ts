import {
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type { RequestId } from '../../machines/handler.js';
import type { CancelReason } from '../../machines/reasons.js';
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { SupervisorEvents } from '../runtime/events.js';
import type { Supervisor } from '../supervisor.js';

/**
 * The attribute and event names this module writes. Standard names follow the OpenTelemetry
 * semantic conventions for MCP (`mcp.*`, `jsonrpc.*`, `gen_ai.*`, `network.*`, `error.type`) and,
 * for backends still on the RPC conventions, `rpc.system` / `rpc.method` / `rpc.jsonrpc.request_id`.
 * Names under `session_supervisor.` are this project's own (nothing standard covers them).
 *
 * @example
 * ```ts
 * span.attributes[TRACE_ATTRIBUTES.cancelReason]; // 'drain-timeout'
 * ```
 */
export const TRACE_ATTRIBUTES = {
  mcpMethod: 'mcp.method.name',
  mcpSessionId: 'mcp.session.id',
  requestId: 'jsonrpc.request.id',
  rpcSystem: 'rpc.system',
  rpcMethod: 'rpc.method',
  rpcRequestId: 'rpc.jsonrpc.request_id',
  responseStatusCode: 'rpc.response.status_code',
  toolName: 'gen_ai.tool.name',
  promptName: 'gen_ai.prompt.name',
  operationName: 'gen_ai.operation.name',
  resourceUri: 'mcp.resource.uri',
  networkTransport: 'network.transport',
  networkProtocol: 'network.protocol.name',
  errorType: 'error.type',
  sessionId: 'session_supervisor.session.id',
  transport: 'session_supervisor.transport',
  outcome: 'session_supervisor.outcome',
  cancelReason: 'session_supervisor.cancel.reason',
  drainReason: 'session_supervisor.drain.reason',
  closeReason: 'session_supervisor.close.reason',
} as const;

/**
 * The span events this module adds: a cancel, an abandoned handler, and the drain and close of
 * the request's session while the span is open.
 *
 * @example
 * ```ts
 * span.events.find((e) => e.name === TRACE_EVENTS.cancelled);
 * ```
 */
export const TRACE_EVENTS = {
  cancelled: 'request.cancelled',
  abandoned: 'handler.abandoned',
  sessionDraining: 'session.draining',
  sessionClosed: 'session.closed',
} as const;

/**
 * Options of {@link traceSupervisor}.
 *
 * @example
 * ```ts
 * traceSupervisor(supervisor, { tracer: provider.getTracer('notes-server') });
 * ```
 */
export interface TraceSupervisorOptions {
  /**
   * The tracer. Default: the tracer `session-supervisor` of the globally registered provider, from
   * the first session opened after one is registered (before that, requests cost nothing).
   */
  tracer?: Tracer;
  /**
   * Reads the trace context from a request's `params._meta`. Default: the globally registered
   * propagator (`propagation` of `@opentelemetry/api`; the Node SDK registers W3C Trace Context).
   */
  propagator?: TextMapPropagator;
}

/**
 * A running tracer of one supervisor.
 *
 * @example
 * ```ts
 * const tracing = traceSupervisor(supervisor);
 * tracing.openSpans; // spans not ended yet
 * tracing.stop();
 * ```
 */
export interface SupervisorTracing {
  /** Spans started and not yet ended. */
  readonly openSpans: number;
  /** Stop listening; spans still open end now with `session_supervisor.outcome = 'untraced'`. */
  stop(): void;
}

/**
 * Cancels that end the request while its session goes on: the span ends at the cancel. The other
 * reasons close the session; their spans stay open until the session's close (which waits for
 * cancelled handlers to settle or be abandoned), so the close shows as a span event.
 */
const SESSION_GOES_ON: ReadonlySet<CancelReason> = new Set<CancelReason>(['client', 'request-timeout']);

/**
 * Span status per cancel reason, as gRPC's server conventions map CANCELLED / DEADLINE_EXCEEDED /
 * UNAVAILABLE / INTERNAL: a cancel the client caused (its cancel, its disconnect) is not a server
 * error; a deadline, a shutdown or a failed session is.
 */
const CANCEL_IS_ERROR: Readonly<Record<CancelReason, boolean>> = {
  client: false,
  'transport-closed': false,
  'drain-timeout': true,
  'request-timeout': true,
  shutdown: true,
  'session-failed': true,
};

const NETWORK: Readonly<Record<string, { transport: string; protocol?: string }>> = {
  ws: { transport: 'tcp', protocol: 'websocket' },
  http: { transport: 'tcp', protocol: 'http' },
  stdio: { transport: 'pipe' },
  memory: { transport: 'inproc' },
};

interface Entry {
  readonly span: Span;
  /** Cancelled with a reason that closes the session: waits for the close. */
  closing: boolean;
}

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

const recordOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

const stringField = (params: Record<string, unknown> | undefined, key: string): string | undefined => {
  const value = params?.[key];
  return typeof value === 'string' ? value : undefined;
};

function startAttributes(event: SupervisorEvents['request.started'], params: Record<string, unknown> | undefined): { name: string; attributes: Attributes } {
  const a = TRACE_ATTRIBUTES;
  const id = String(event.requestId);
  const attributes: Attributes = {
    [a.mcpMethod]: event.method,
    [a.rpcSystem]: 'jsonrpc',
    [a.rpcMethod]: event.method,
    [a.requestId]: id,
    [a.rpcRequestId]: id,
    [a.sessionId]: event.sessionId,
    [a.transport]: event.transport,
  };
  // The wire's own session id where it has one; none for a stateless exchange; else the connection is the session.
  const mcpSessionId = event.protocolSessionId === undefined ? event.sessionId : event.protocolSessionId;
  if (mcpSessionId !== null) attributes[a.mcpSessionId] = mcpSessionId;
  const network = NETWORK[event.transport];
  if (network !== undefined) {
    attributes[a.networkTransport] = network.transport;
    if (network.protocol !== undefined) attributes[a.networkProtocol] = network.protocol;
  }
  let target: string | undefined;
  if (event.method === 'tools/call') {
    target = stringField(params, 'name');
    if (target !== undefined) attributes[a.toolName] = target;
    attributes[a.operationName] = 'execute_tool';
  } else if (event.method === 'prompts/get') {
    target = stringField(params, 'name');
    if (target !== undefined) attributes[a.promptName] = target;
  } else if (event.method.startsWith('resources/')) {
    const uri = stringField(params, 'uri');
    if (uri !== undefined) attributes[a.resourceUri] = uri;
  }
  return { name: target === undefined ? event.method : `${event.method} ${target}`, attributes };
}

const TRACER_NAME = 'session-supervisor';

/**
 * The tracer to use for the next request, or `undefined` while no tracer provider is registered
 * globally (then a request costs one call here: no attributes, no context, no span). Once a
 * provider is registered its tracer is kept.
 */
function resolveTracer(given: Tracer | undefined): () => Tracer | undefined {
  if (given !== undefined) return () => given;
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider)) {
    const tracer = provider.getTracer(TRACER_NAME);
    return () => tracer;
  }
  let tracer: Tracer | undefined;
  return () => (tracer ??= provider.getDelegateTracer(TRACER_NAME));
}

/**
 * Trace every request a supervisor runs with OpenTelemetry: one `SERVER` span per admitted request,
 * from its start to its answer (or cancel), named `{method} {tool}` (`tools/call echo`) or
 * `{method}`, with the MCP / JSON-RPC semantic-convention attributes, parented by the W3C trace
 * context (`traceparent`, `tracestate`) the client put in `params._meta`. A failed request sets
 * status `ERROR`, `error.type` and `rpc.response.status_code` to the JSON-RPC error code. A cancel
 * adds a `request.cancelled` event and the `session_supervisor.cancel.reason` attribute; the
 * session's drain and close are events on the spans open at the time.
 *
 * `@opentelemetry/api` is an optional peer dependency: import this from
 * `session-supervisor/tracing`. While no tracer provider is registered nothing listens per request
 * (the runtime builds no event, no span, no attributes); a provider registered later is picked up
 * when the next session opens. A non-recording span (sampled out) is not kept.
 *
 * @example
 * ```ts
 * import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
 * import { traceSupervisor } from 'session-supervisor/tracing';
 *
 * new NodeTracerProvider({ spanProcessors: [processor] }).register();
 * const tracing = traceSupervisor(supervisor);
 * // … later
 * tracing.stop();
 * ```
 */
export function traceSupervisor(supervisor: Pick<Supervisor, 'on'>, options: TraceSupervisorOptions = {}): SupervisorTracing {
  const tracerOf = resolveTracer(options.tracer);
  const propagator = options.propagator;
  const bySession = new Map<string, Map<RequestId, Entry>>();
  let open = 0;
  const a = TRACE_ATTRIBUTES;

  const take = (sessionId: string, requestId: RequestId): Entry | undefined => bySession.get(sessionId)?.get(requestId);
  const end = (sessionId: string, requestId: RequestId, entry: Entry): void => {
    entry.span.end();
    open -= 1;
    const requests = bySession.get(sessionId);
    if (requests === undefined) return;
    requests.delete(requestId);
    if (requests.size === 0) bySession.delete(sessionId);
  };

  const listen = (): Array<() => void> => [
    supervisor.on('request.started', (event) => {
      const tracer = tracerOf();
      if (tracer === undefined) return;
      const params = recordOf(event.params);
      const meta = recordOf(params?._meta);
      const parent =
        meta === undefined ? ROOT_CONTEXT : propagator === undefined ? propagation.extract(ROOT_CONTEXT, meta, metaGetter) : propagator.extract(ROOT_CONTEXT, meta, metaGetter);
      const { name, attributes } = startAttributes(event, params);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      if (!span.isRecording()) return;
      let requests = bySession.get(event.sessionId);
      if (requests === undefined) {
        requests = new Map();
        bySession.set(event.sessionId, requests);
      }
      requests.set(event.requestId, { span, closing: false });
      open += 1;
    }),
    supervisor.on('request.completed', (event) => {
      // An error outcome is followed by `request.failed`, which carries the error and ends the span.
      if (event.outcome !== 'result') return;
      const entry = take(event.sessionId, event.requestId);
      if (entry === undefined) return;
      if (event.method === 'tools/call' && recordOf(event.result)?.isError === true) {
        // MCP semantic conventions: a tool result with `isError: true` is an error of the call.
        entry.span.setAttributes({ [a.outcome]: 'error', [a.errorType]: 'tool_error' });
        entry.span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool_error' });
      } else {
        entry.span.setAttribute(a.outcome, 'result');
      }
      end(event.sessionId, event.requestId, entry);
    }),
    supervisor.on('request.failed', (event) => {
      const entry = take(event.sessionId, event.requestId);
      if (entry === undefined) return;
      const { span } = entry;
      const wire = event.error instanceof JsonRpcError;
      const code = String(wire ? (event.error as JsonRpcError).code : ErrorCode.InternalError);
      span.setAttributes({ [a.outcome]: 'error', [a.errorType]: code, [a.responseStatusCode]: code });
      if (!wire && event.error instanceof Error) span.recordException(event.error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: wire ? (event.error as JsonRpcError).message : 'Internal error' });
      end(event.sessionId, event.requestId, entry);
    }),
    supervisor.on('request.cancelled', (event) => {
      const entry = take(event.sessionId, event.requestId);
      if (entry === undefined) return;
      const { span } = entry;
      span.addEvent(TRACE_EVENTS.cancelled, { [a.cancelReason]: event.reason });
      span.setAttributes({ [a.outcome]: 'cancelled', [a.cancelReason]: event.reason });
      if (CANCEL_IS_ERROR[event.reason]) {
        span.setAttribute(a.errorType, event.reason);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `cancelled: ${event.reason}` });
      }
      if (SESSION_GOES_ON.has(event.reason)) end(event.sessionId, event.requestId, entry);
      else entry.closing = true;
    }),
    supervisor.on('handler.abandoned', (event) => {
      const entry = take(event.sessionId, event.requestId);
      if (entry === undefined) return;
      entry.span.addEvent(TRACE_EVENTS.abandoned, { [a.cancelReason]: event.reason });
      entry.span.setAttribute(a.outcome, 'abandoned');
      end(event.sessionId, event.requestId, entry);
    }),
    supervisor.on('session.draining', (event) => {
      const requests = bySession.get(event.sessionId);
      if (requests === undefined) return;
      for (const entry of requests.values()) entry.span.addEvent(TRACE_EVENTS.sessionDraining, { [a.drainReason]: event.reason });
    }),
    supervisor.on('session.closed', (info) => {
      const requests = bySession.get(info.sessionId);
      if (requests === undefined) return;
      const attributes: Attributes = { [a.closeReason]: info.reason ?? 'drained' };
      if (info.drainReason !== null) attributes[a.drainReason] = info.drainReason;
      for (const [requestId, entry] of [...requests]) {
        entry.span.addEvent(TRACE_EVENTS.sessionClosed, attributes);
        end(info.sessionId, requestId, entry);
      }
    }),
  ];

  // Without a tracer nothing listens per request, so the runtime builds no event for it: tracing
  // that is off costs nothing per request. A provider registered later is picked up when the next
  // session opens (its requests, and every later one, are traced).
  const offs: Array<() => void> = [];
  let listening = false;
  const startListening = (): void => {
    if (listening) return;
    listening = true;
    offs.push(...listen());
  };
  if (tracerOf() !== undefined) startListening();
  else offs.push(supervisor.on('session.opened', () => (tracerOf() === undefined ? undefined : startListening())));

  return {
    get openSpans() {
      return open;
    },
    stop() {
      for (const off of offs.splice(0)) off();
      for (const [sessionId, requests] of [...bySession]) {
        for (const [requestId, entry] of [...requests]) {
          if (!entry.closing) entry.span.setAttribute(a.outcome, 'untraced');
          end(sessionId, requestId, entry);
        }
      }
    },
  };
}

