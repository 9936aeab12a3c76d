import { decodeFrame, decodeValue, encodeError, summarizeIssues, type Decoded } from '../jsonrpc/codec.js';
import { ErrorCode, type JsonRpcErrorObject } from '../jsonrpc/errors.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../jsonrpc/schema.js';
import type { MalformedFrame } from '../transports/types.js';
import { Batch } from './batch.js';
import type { SessionRuntime } from './context.js';
import { isThenable, type InFlight } from './inflight.js';
import type { SessionHandle } from './methods.js';

/**
 * `data.retryAfterMs` of the −32000 a draining session answers to a new request: retry on a new
 * connection after this long. The session itself will not admit it again; by the time a session
 * drains, its server is already out of its load balancer's rotation (the readiness probe failed
 * during `--shutdown-delay`), so a new connection reaches another instance. One second covers a
 * balancer health check every second (deploy/haproxy: `inter 1s`) when there was no delay.
 *
 * @example
 * ```ts
 * if (error.code === -32000) setTimeout(reconnectAndRetry, error.data.retryAfterMs ?? DRAINING_RETRY_AFTER_MS);
 * ```
 */
export const DRAINING_RETRY_AFTER_MS = 1_000;

/** What dispatch needs from its session: admission as the connection machine publishes it, and output. */
export interface DispatchTarget extends SessionHandle {
  /** Whether the connection machine admits new requests (its `admits` tag, published in the same step). */
  readonly admits: boolean;
  /** Backpressure from the transport: no new request while the peer reads too slowly. */
  readonly pressure: boolean;
  readonly inflight: InFlight;
  answer(batch: Batch | undefined, frame: string): void;
  write(frame: string): boolean;
  /** A response to a request this session sent (`session.request()`). */
  onResponse(message: JsonRpcResponse): void;
}

/**
 * One inbound frame: decoded, then a request (admitted or refused), a notification, a response or a
 * batch. `parsed` is the frame already parsed by its transport (`JSON.parse(frame)`), so it is not
 * parsed twice; `frame` still counts for the size limit. Throws only on a bug; the session treats
 * that as its own failure.
 */
export function dispatchFrame(rt: SessionRuntime, target: DispatchTarget, frame: string, parsed?: unknown): void {
  if (tooLarge(rt, target, frame)) return;
  route(rt, target, parsed === undefined ? decodeFrame(frame, rt.decodeOptions) : decodeValue(parsed, rt.decodeOptions));
}

/** Over `maxMessageBytes`: answered with −32004 (`id: null`) and dropped. */
function tooLarge(rt: SessionRuntime, target: DispatchTarget, frame: string): boolean {
  const limit = rt.limits.maxMessageBytes;
  if (frame.length * 3 <= limit || Buffer.byteLength(frame) <= limit) return false;
  target.write(encodeError(null, { code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit } }));
  return true;
}

function route(rt: SessionRuntime, target: DispatchTarget, decoded: Decoded): void {
  switch (decoded.kind) {
    case 'request':
      return onRequest(rt, target, decoded.message, undefined);
    case 'notification':
      return onNotification(rt, target, decoded.message);
    case 'response':
      return target.onResponse(decoded.message);
    case 'batch':
      return onBatch(rt, target, decoded.items);
    case 'invalid':
      target.write(encodeError(null, decoded.error));
      return;
  }
}

/** A frame the transport could not turn into text: −32700 (invalid UTF-8) or −32004 (too large), `id: null`. */
export function malformedError(rt: SessionRuntime, problem: MalformedFrame): JsonRpcErrorObject {
  return problem === 'invalid-utf8'
    ? { code: ErrorCode.ParseError, message: 'Parse error', data: 'invalid UTF-8' }
    : { code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit: rt.limits.maxMessageBytes } };
}

function onRequest(rt: SessionRuntime, target: DispatchTarget, message: JsonRpcRequest, batch: Batch | undefined): void {
  const id = message.id;
  if (target.inflight.running.has(id)) {
    // Never answer with the id of the request that is still running: that would cross-wire.
    target.answer(batch, encodeError(null, { code: ErrorCode.DuplicateRequestId, message: 'Duplicate request id', data: { id } }));
    return;
  }
  const refusal = refuse(rt, target, message);
  if (refusal !== undefined) {
    rt.counters.refused += 1;
    target.answer(batch, encodeError(id, refusal));
    return;
  }
  const definition = rt.methods.get(message.method)!;
  let params: unknown = message.params;
  if (definition.params !== undefined) {
    const parsed = definition.params.safeParse(params);
    if (!parsed.success) {
      rt.counters.refused += 1;
      target.answer(batch, encodeError(id, { code: ErrorCode.InvalidParams, message: 'Invalid params', data: summarizeIssues(parsed.error) }));
      return;
    }
    params = parsed.data;
  }
  target.inflight.spawn(message, definition, params, batch);
}

/** Admission: the machine's `admits`, then capacity, then the method table, then the dialect. */
function refuse(rt: SessionRuntime, target: DispatchTarget, message: JsonRpcRequest): JsonRpcErrorObject | undefined {
  if (!target.admits) {
    return { code: ErrorCode.SessionDraining, message: 'Session is draining', data: { state: target.state, retryAfterMs: DRAINING_RETRY_AFTER_MS } };
  }
  if (target.pressure || target.inflight.running.size >= rt.limits.maxInFlight) {
    return { code: ErrorCode.Overloaded, message: 'Server overloaded', data: { maxInFlight: rt.limits.maxInFlight } };
  }
  if (!rt.methods.has(message.method)) {
    return { code: ErrorCode.MethodNotFound, message: 'Method not found', data: { method: message.method } };
  }
  return rt.dialect.admit?.(message, target);
}

function onNotification(rt: SessionRuntime, target: DispatchTarget, message: JsonRpcNotification): void {
  const cancel = rt.dialect.cancelNotification;
  if (cancel !== undefined && message.method === cancel.method) {
    const requestId = cancel.requestId(message.params);
    if (requestId !== undefined) target.inflight.cancelByPeer(requestId);
    return;
  }
  const handler = rt.notifications.get(message.method);
  if (handler === undefined) return;
  try {
    const result = handler(message.params, target);
    if (isThenable(result)) {
      result.then(undefined, (error: unknown) =>
        rt.logger.warn({ sessionId: target.id, method: message.method, err: error }, 'notification handler failed'),
      );
    }
  } catch (error) {
    rt.logger.warn({ sessionId: target.id, method: message.method, err: error }, 'notification handler failed');
  }
}

function onBatch(rt: SessionRuntime, target: DispatchTarget, items: unknown[]): void {
  const batch = new Batch((frame) => target.write(frame));
  for (const item of items) {
    const decoded = decodeValue(item);
    switch (decoded.kind) {
      case 'request':
        batch.expect();
        onRequest(rt, target, decoded.message, batch);
        break;
      case 'notification':
        onNotification(rt, target, decoded.message);
        break;
      case 'response':
        target.onResponse(decoded.message);
        break;
      default:
        batch.expect();
        batch.add(encodeError(null, decoded.kind === 'invalid' ? decoded.error : { code: ErrorCode.InvalidRequest, message: 'Invalid Request', data: 'nested batch' }));
    }
  }
  batch.seal();
}
