import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { connectionMachine } from '../../machines/connection.js';
import { spawnHandlerActor } from './handler-actor.js';
import type { HandlerEvent, RequestId } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason, type DrainReason } from '../../machines/reasons.js';
import { decodeFrame, decodeValue, encodeError, encodeNotification, encodeResult, summarizeIssues } from '../jsonrpc/codec.js';
import { ErrorCode, JsonRpcError, SupervisorError, type JsonRpcErrorObject } from '../jsonrpc/errors.js';
import type { JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../jsonrpc/schema.js';
import type { CloseIntent, MalformedFrame, Transport, TransportSink } from '../transports/types.js';
import { Batch } from './batch.js';
import type { SessionRuntime } from './context.js';
import type { CancelledError, MethodDefinition, SessionHandle } from './methods.js';
import { delayToFirst, expiredFront } from './deadlines.js';
import { OutgoingRequests } from './outgoing.js';
import { cancelledError, HandlerRecord } from './record.js';

/** A connection actor as the runtime runs it. */
export type ConnectionActor = Actor<typeof connectionMachine>;

/**
 * How a session ended.
 *
 * @example
 * ```ts
 * const info = await session.closed;
 * info.reason; // 'transport-closed', 'shutdown', … or null when it drained idle
 * ```
 */
export interface SessionCloseInfo {
  sessionId: string;
  /** The reason given to the handlers still live at the close (`null`: none were, it drained idle). */
  reason: CancelReason | null;
  drainReason: DrainReason | null;
  failed: boolean;
}

// The handler events are immutable, so one frozen object per kind (per reason for a cancel) serves
// every request: a cancel-all of 10k handlers allocates no event objects.
const HANDLER_RESOLVE: HandlerEvent = Object.freeze({ type: 'handler.resolve' });
const HANDLER_REJECT: HandlerEvent = Object.freeze({ type: 'handler.reject' });
const CANCEL_GRACE: HandlerEvent = Object.freeze({ type: 'timer.cancelGrace' });
const HANDLER_CANCEL = Object.fromEntries(
  CANCEL_REASONS.map((reason) => [reason, Object.freeze({ type: 'handler.cancel', reason })]),
) as Record<CancelReason, HandlerEvent>;

const requestDeadlineOf = (record: HandlerRecord): number => record.deadline;
const graceDeadlineOf = (record: HandlerRecord): number => record.graceDeadline;

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/**
 * One connection: a connection actor over one transport, its in-flight handler actors and the send
 * guard. Created by `supervisor.attach(transport)`.
 *
 * @example
 * ```ts
 * const session = supervisor.attach(transport);
 * session.state; // 'connected'
 * await session.closed;
 * ```
 */
export class Session implements SessionHandle, TransportSink {
  readonly actor: ConnectionActor;
  /** Resolves once the session is closed and every handler has settled or been abandoned. */
  readonly closed: Promise<SessionCloseInfo>;
  state: 'connected' | 'draining' | 'closed' = 'connected';
  private maySend = true;
  private pressure = false;
  private finished = false;
  private failed = false;
  private failureReported = false;
  private drainReason: DrainReason | null = null;
  private drainTimer: unknown = undefined;
  private requestTimer: unknown = undefined;
  private graceTimer: unknown = undefined;
  private readonly running = new Map<RequestId, HandlerRecord>();
  // Created on first use: most sessions never cancel a handler nor send a request of their own,
  // and an empty Map or Set is ≈ 180 B per idle session.
  private cancelling: Set<HandlerRecord> | undefined = undefined;
  private outgoing: OutgoingRequests | undefined = undefined;
  private localsMap: Map<string, unknown> | undefined = undefined;
  private resolveClosed!: (info: SessionCloseInfo) => void;

  constructor(
    private readonly rt: SessionRuntime,
    readonly id: string,
    readonly transport: Transport,
    parent: AnyActorRef,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.actor = createActor(rt.connectionLogic, { parent, id, input: { sessionId: id } });
    this.actor.subscribe({
      next: (snapshot) => {
        this.state = snapshot.value;
        if (snapshot.status === 'done') this.maybeFinish();
      },
      error: (error) => this.fail(error, true),
    });
  }

  get transportKind(): string {
    return this.transport.kind;
  }

  /** Per-session storage for dialects and handlers (created on first use). */
  get locals(): Map<string, unknown> {
    return (this.localsMap ??= new Map());
  }

  /** Requests whose handlers are running (not yet cancelled). */
  get inFlight(): number {
    return this.running.size;
  }

  /** Handlers cancelled but not yet settled or abandoned. */
  get cancellingCount(): number {
    return this.cancelling?.size ?? 0;
  }

  /** Start the actor and the transport. */
  start(): void {
    this.actor.start();
    if (this.finished || this.failed) return;
    try {
      this.transport.start(this);
    } catch (error) {
      this.fail(error, false);
    }
  }

  /** Stop taking requests; finish the in-flight ones (bounded by `drainTimeoutMs`). */
  drain(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'session.drain' });
  }

  /** Close now: live handlers are cancelled with `reason` (default `shutdown`). */
  close(reason: CancelReason = 'shutdown'): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'session.close', reason });
  }

  // ---- TransportSink -------------------------------------------------------------------------

  onFrame(frame: string): void {
    if (this.state === 'closed' || this.failed) return;
    try {
      const limit = this.rt.limits.maxMessageBytes;
      if (frame.length * 3 > limit && Buffer.byteLength(frame) > limit) {
        this.write(encodeError(null, { code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit } }));
        return;
      }
      const decoded = decodeFrame(frame, this.rt.decodeOptions);
      switch (decoded.kind) {
        case 'request':
          return this.onRequest(decoded.message, undefined);
        case 'notification':
          return this.onNotification(decoded.message);
        case 'response':
          return this.onResponse(decoded.message);
        case 'batch':
          return this.onBatch(decoded.items);
        case 'invalid':
          this.write(encodeError(null, decoded.error));
          return;
      }
    } catch (error) {
      this.fail(error, false);
    }
  }

  onMalformed(problem: MalformedFrame): void {
    if (this.state === 'closed' || this.failed) return;
    const error: JsonRpcErrorObject =
      problem === 'invalid-utf8'
        ? { code: ErrorCode.ParseError, message: 'Parse error', data: 'invalid UTF-8' }
        : { code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit: this.rt.limits.maxMessageBytes } };
    this.write(encodeError(null, error));
  }

  onInputEnded(): void {
    this.actor.send({ type: 'transport.inputEnded' });
  }

  onClosed(detail: string): void {
    this.rt.logger.debug({ sessionId: this.id, detail }, 'transport closed');
    this.actor.send({ type: 'transport.closed' });
  }

  onPressure(level: 'normal' | 'high'): void {
    this.pressure = level === 'high';
  }

  // ---- SessionHandle ---------------------------------------------------------------------------

  notify(method: string, params?: unknown): boolean {
    return this.write(encodeNotification(method, params));
  }

  /**
   * Send a request to the peer and wait for its response (e.g. MCP `ping` from the server).
   * Rejects with `ERR_SESSION_CLOSED` when the session closes first, `ERR_REQUEST_TIMEOUT` after
   * `timeoutMs`, or the peer's error as a `JsonRpcError`.
   *
   * @example
   * ```ts
   * await session.request('ping', undefined, { timeoutMs: 5000 });
   * ```
   */
  request(method: string, params?: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.finished || this.state === 'closed') {
      return Promise.reject(new SupervisorError('ERR_SESSION_CLOSED', `session ${this.id} is closed`));
    }
    this.outgoing ??= new OutgoingRequests(this.rt.clock);
    return this.outgoing.send(this.id, method, params, options.timeoutMs ?? 30_000, (frame) => this.write(frame));
  }

  // ---- actions the connection machine calls (through the supervisor's provide) ----------------

  startDrainTimer(): void {
    this.drainTimer = this.rt.clock.setTimeout(() => {
      this.drainTimer = undefined;
      this.actor.send({ type: 'timer.drainDeadline' });
    }, this.rt.limits.drainTimeoutMs);
  }

  stopDrainTimer(): void {
    if (this.drainTimer !== undefined) this.rt.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
  }

  drainStarted(reason: DrainReason): void {
    this.drainReason = reason;
    this.rt.emit('session.draining', { sessionId: this.id, reason });
    if (this.running.size === 0) this.actor.send({ type: 'handlers.idle' });
  }

  blockSends(): void {
    this.maySend = false;
  }

  cancelHandlers(reason: CancelReason): void {
    this.cancelAll(reason);
  }

  closeTransport(reason: CancelReason | null): void {
    const intent: CloseIntent =
      reason === 'session-failed' ? 'internal-error' : reason === null || reason === 'transport-closed' ? 'normal' : 'going-away';
    this.transport.close(intent);
  }

  // ---- requests --------------------------------------------------------------------------------

  private onRequest(message: JsonRpcRequest, batch: Batch | undefined): void {
    const id = message.id;
    if (this.running.has(id)) {
      // Never answer with the id of the request that is still running: that would cross-wire.
      this.answer(batch, encodeError(null, {
        code: ErrorCode.DuplicateRequestId,
        message: 'Duplicate request id',
        data: { id },
      }));
      return;
    }
    const refusal = this.refuse(message);
    if (refusal !== undefined) {
      this.rt.counters.refused += 1;
      this.answer(batch, encodeError(id, refusal));
      return;
    }
    const definition = this.rt.methods.get(message.method)!;
    let params: unknown = message.params;
    if (definition.params !== undefined) {
      const parsed = definition.params.safeParse(params);
      if (!parsed.success) {
        this.rt.counters.refused += 1;
        this.answer(batch, encodeError(id, {
          code: ErrorCode.InvalidParams,
          message: 'Invalid params',
          data: summarizeIssues(parsed.error),
        }));
        return;
      }
      params = parsed.data;
    }
    this.spawn(message, definition, params, batch);
  }

  private refuse(message: JsonRpcRequest): JsonRpcErrorObject | undefined {
    if (this.state !== 'connected') {
      return { code: ErrorCode.SessionDraining, message: 'Session is draining', data: { state: this.state } };
    }
    if (this.pressure || this.running.size >= this.rt.limits.maxInFlight) {
      return { code: ErrorCode.Overloaded, message: 'Server overloaded', data: { maxInFlight: this.rt.limits.maxInFlight } };
    }
    if (!this.rt.methods.has(message.method)) {
      return { code: ErrorCode.MethodNotFound, message: 'Method not found', data: { method: message.method } };
    }
    return this.rt.dialect.admit?.(message, this);
  }

  private spawn(message: JsonRpcRequest, definition: MethodDefinition, params: unknown, batch: Batch | undefined): void {
    const { limits, clock, counters } = this.rt;
    counters.requests += 1;
    const actor = spawnHandlerActor(this.actor, `request:${String(message.id)}`, {
      requestId: message.id,
      method: message.method,
    });
    const now = clock.now();
    const deadline = limits.requestTimeoutMs > 0 ? now + limits.requestTimeoutMs : Infinity;
    const record = new HandlerRecord(this, message.id, message, actor, deadline, batch);
    record.startedAt = now;
    this.running.set(message.id, record);
    if (this.rt.listens('request.started')) {
      this.rt.emit('request.started', { sessionId: this.id, requestId: message.id, method: message.method, transport: this.transport.kind, params });
    }
    if (deadline !== Infinity && this.requestTimer === undefined) this.armRequestTimer();
    let result: unknown;
    try {
      result = definition.handler(params, record);
    } catch (error) {
      this.onRejected(record, error);
      return;
    }
    if (isThenable(result)) {
      try {
        result.then(
          (value) => this.onResolved(record, value),
          (error: unknown) => this.onRejected(record, error),
        );
      } catch (error) {
        this.onRejected(record, error);
      }
    } else {
      this.onResolved(record, result);
    }
  }

  private onResolved(record: HandlerRecord, value: unknown): void {
    if (record.done) {
      this.rt.counters.lateAnswers += 1;
      return;
    }
    record.done = true;
    record.actor.send(HANDLER_RESOLVE);
    if (record.cancelReason !== undefined) {
      // Answered after its cancel: the dialect already answered (or forbids an answer).
      this.rt.counters.lateAnswers += 1;
      this.settle(record);
      return;
    }
    this.rt.counters.completed += 1;
    this.completed(record, 'result');
    let frame: string;
    try {
      frame = encodeResult(record.requestId, value);
    } catch (error) {
      this.rt.logger.error({ sessionId: this.id, requestId: record.requestId, err: error }, 'result not serializable');
      frame = encodeError(record.requestId, { code: ErrorCode.InternalError, message: 'Internal error' });
    }
    // Answer first, then release: releasing the last handler of a draining session closes it.
    this.answer(record.batch, frame);
    this.settle(record);
  }

  private onRejected(record: HandlerRecord, error: unknown): void {
    if (record.done) {
      this.rt.counters.lateAnswers += 1;
      return;
    }
    record.done = true;
    record.actor.send(HANDLER_REJECT);
    if (record.cancelReason !== undefined) {
      this.settle(record);
      return;
    }
    this.rt.counters.failed += 1;
    this.completed(record, 'error');
    this.rt.emit('request.failed', { sessionId: this.id, requestId: record.requestId, method: record.method, error });
    const wire: JsonRpcErrorObject =
      error instanceof JsonRpcError ? error.toJSON() : { code: ErrorCode.InternalError, message: 'Internal error' };
    if (!(error instanceof JsonRpcError)) {
      this.rt.logger.warn({ sessionId: this.id, requestId: record.requestId, method: record.method, err: error }, 'handler failed');
    }
    let frame: string;
    try {
      frame = encodeError(record.requestId, wire);
    } catch {
      frame = encodeError(record.requestId, { code: wire.code, message: wire.message });
    }
    this.answer(record.batch, frame);
    this.settle(record);
  }

  private completed(record: HandlerRecord, outcome: 'result' | 'error'): void {
    const durationMs = this.rt.clock.now() - record.startedAt;
    this.rt.emit('request.completed', { sessionId: this.id, requestId: record.requestId, method: record.method, outcome, durationMs });
  }

  /**
   * Cancel every running handler, iterating over a snapshot. They share one {@link CancelledError}
   * for the reason, so a close does not build one error per handler.
   */
  private cancelAll(reason: CancelReason): void {
    if (this.running.size === 0) return;
    const error = cancelledError(reason);
    for (const record of [...this.running.values()]) this.cancel(record, reason, error);
  }

  /** Cancel one running handler with a reason: abort its signal, answer per dialect, arm the grace. */
  cancel(record: HandlerRecord, reason: CancelReason, shared?: CancelledError): void {
    if (record.done || record.cancelReason !== undefined) return;
    record.actor.send(HANDLER_CANCEL[reason]);
    if (this.running.get(record.requestId) === record) this.running.delete(record.requestId);
    (this.cancelling ??= new Set()).add(record);
    this.rt.counters.cancelled[reason] += 1;
    record.graceDeadline = this.rt.clock.now() + this.rt.limits.cancelGraceMs;
    if (this.graceTimer === undefined) this.armGraceTimer();
    this.rt.emit('request.cancelled', { sessionId: this.id, requestId: record.requestId, method: record.method, reason });
    const answer = this.rt.dialect.responseOnCancel(reason);
    if (answer !== undefined) this.answer(record.batch, encodeError(record.requestId, answer));
    else record.batch?.skip();
    record.abort(reason, shared);
    this.afterSettle();
  }

  /** An `onCancel` listener threw: logged, and the cancel goes on. */
  cancelListenerFailed(error: unknown, record: HandlerRecord): void {
    this.rt.logger.warn({ sessionId: this.id, requestId: record.requestId, method: record.method, err: error }, 'cancel listener threw');
  }

  /** A cancel notification from the peer. Unknown or finished ids are ignored. */
  cancelByPeer(requestId: RequestId): void {
    const record = this.running.get(requestId);
    if (record === undefined) return;
    if (this.rt.dialect.cancellable?.(record.method) === false) return;
    this.cancel(record, 'client');
  }

  private abandon(record: HandlerRecord): void {
    if (record.done) return;
    record.done = true;
    record.actor.send(CANCEL_GRACE);
    this.rt.counters.abandoned += 1;
    this.rt.emit('handler.abandoned', { sessionId: this.id, requestId: record.requestId, method: record.method, reason: record.cancelReason! });
    this.settle(record);
  }

  private settle(record: HandlerRecord): void {
    record.done = true;
    if (this.running.get(record.requestId) === record) this.running.delete(record.requestId);
    const cancelling = this.cancelling;
    if (cancelling !== undefined && cancelling.delete(record) && cancelling.size === 0 && this.graceTimer !== undefined) {
      this.rt.clock.clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
    this.afterSettle();
  }

  private afterSettle(): void {
    if (this.running.size === 0 && this.state === 'draining') this.actor.send({ type: 'handlers.idle' });
    else if (this.state === 'closed') this.maybeFinish();
  }

  private armGraceTimer(): void {
    if (this.cancelling === undefined) return;
    const delay = delayToFirst(this.cancelling, graceDeadlineOf, this.rt.clock.now());
    if (delay !== undefined) this.graceTimer = this.rt.clock.setTimeout(() => this.onGraceTimer(), delay);
  }

  /**
   * Handlers are cancelled in order and the grace is the same for all, so `cancelling` is a FIFO of
   * grace deadlines: one timer per session, armed for the oldest, instead of one per handler.
   */
  private onGraceTimer(): void {
    this.graceTimer = undefined;
    if (this.cancelling === undefined) return;
    for (const record of expiredFront(this.cancelling, graceDeadlineOf, this.rt.clock.now())) this.abandon(record);
    if (this.cancellingCount > 0 && this.graceTimer === undefined) this.armGraceTimer();
  }

  private armRequestTimer(): void {
    const delay = delayToFirst(this.running.values(), requestDeadlineOf, this.rt.clock.now());
    if (delay !== undefined) this.requestTimer = this.rt.clock.setTimeout(() => this.onRequestTimer(), delay);
  }

  /** Requests arrive in deadline order (one timeout per supervisor), so the map is a FIFO. */
  private onRequestTimer(): void {
    this.requestTimer = undefined;
    const expired = expiredFront(this.running.values(), requestDeadlineOf, this.rt.clock.now());
    for (const record of expired) this.cancel(record, 'request-timeout');
    if (!this.finished && this.state !== 'closed') this.armRequestTimer();
  }

  // ---- notifications, responses, batches -------------------------------------------------------

  private onNotification(message: JsonRpcNotification): void {
    const cancel = this.rt.dialect.cancelNotification;
    if (cancel !== undefined && message.method === cancel.method) {
      const requestId = cancel.requestId(message.params);
      if (requestId !== undefined) this.cancelByPeer(requestId);
      return;
    }
    const handler = this.rt.notifications.get(message.method);
    if (handler === undefined) return;
    try {
      const result = handler(message.params, this);
      if (isThenable(result)) {
        result.then(undefined, (error: unknown) =>
          this.rt.logger.warn({ sessionId: this.id, method: message.method, err: error }, 'notification handler failed'),
        );
      }
    } catch (error) {
      this.rt.logger.warn({ sessionId: this.id, method: message.method, err: error }, 'notification handler failed');
    }
  }

  private onResponse(message: JsonRpcResponse): void {
    if (this.outgoing?.onResponse(message) === true) return;
    this.rt.logger.debug({ sessionId: this.id, id: message.id }, 'response to no pending request ignored');
  }

  private onBatch(items: unknown[]): void {
    const batch = new Batch((frame) => this.write(frame));
    for (const item of items) {
      const decoded = decodeValue(item);
      switch (decoded.kind) {
        case 'request':
          batch.expect();
          this.onRequest(decoded.message, batch);
          break;
        case 'notification':
          this.onNotification(decoded.message);
          break;
        case 'response':
          this.onResponse(decoded.message);
          break;
        default:
          batch.expect();
          batch.add(encodeError(null, decoded.kind === 'invalid' ? decoded.error : { code: ErrorCode.InvalidRequest, message: 'Invalid Request', data: 'nested batch' }));
      }
    }
    batch.seal();
  }

  // ---- the send guard -----------------------------------------------------------------------

  private answer(batch: Batch | undefined, frame: string): void {
    if (batch !== undefined) batch.add(frame);
    else this.write(frame);
  }

  /** Every frame goes through here: blocked (and counted) unless the machine may send and the output works. */
  private write(frame: string): boolean {
    if (!this.maySend || !this.transport.outputOpen) {
      this.rt.counters.blockedSends += 1;
      this.rt.emit('send.blocked', { sessionId: this.id, state: this.state });
      return false;
    }
    try {
      this.transport.send(frame);
      return true;
    } catch (error) {
      this.rt.logger.warn({ sessionId: this.id, err: error }, 'transport send threw; treating the output as gone');
      this.onClosed('send threw');
      return false;
    }
  }

  // ---- the end ------------------------------------------------------------------------------

  /**
   * The session's own machinery failed. Close this session alone: handlers cancelled with
   * `session-failed`, the transport closed with `internal-error` (WebSocket 1011).
   */
  fail(error: unknown, actorFailed: boolean): void {
    if (this.failed || this.finished) return;
    if (!this.failureReported) {
      this.failureReported = true;
      this.rt.sessionFailed(this, error);
    }
    if (!actorFailed && this.actor.getSnapshot().status === 'active') {
      // The actor still works: close through it. If its actions throw, its error observer calls
      // back here with actorFailed = true and the manual cleanup below runs.
      this.actor.send({ type: 'session.close', reason: 'session-failed' });
      return;
    }
    this.failed = true;
    this.maySend = false;
    this.state = 'closed';
    this.stopDrainTimer();
    this.cancelAll('session-failed');
    try {
      this.transport.close('internal-error');
    } catch (closeError) {
      this.rt.logger.error({ sessionId: this.id, err: closeError }, 'transport close failed');
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finished || this.state !== 'closed') return;
    if (this.running.size > 0 || this.cancellingCount > 0) return;
    this.finished = true;
    this.maySend = false;
    this.stopDrainTimer();
    if (this.requestTimer !== undefined) this.rt.clock.clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
    this.outgoing?.rejectAll(this.id);
    const info: SessionCloseInfo = {
      sessionId: this.id,
      reason: this.failed ? 'session-failed' : this.actor.getSnapshot().context.closeReason,
      drainReason: this.drainReason,
      failed: this.failureReported,
    };
    this.rt.sessionFinished(this, info);
    this.resolveClosed(info);
  }
}
