import type { AnyActorRef } from 'xstate';
import type { HandlerEvent, RequestId } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';
import { encodeError, encodeResult } from '../jsonrpc/codec.js';
import { ErrorCode, JsonRpcError, type JsonRpcErrorObject } from '../jsonrpc/errors.js';
import type { JsonRpcRequest } from '../jsonrpc/schema.js';
import type { Batch } from './batch.js';
import type { SessionRuntime } from './context.js';
import { delayToFirst, expiredFront } from './deadlines.js';
import type { GraceOwner } from './grace-queue.js';
import { spawnHandlerActor } from './handler-actor.js';
import type { CancelledError, MethodDefinition, SessionHandle } from './methods.js';
import { cancelledError, HandlerRecord } from './record.js';
import { RequestTable } from './request-table.js';

// The handler events are immutable, so one frozen object per kind (per reason for a cancel) serves
// every request: a cancel-all of 10k handlers allocates no event objects.
const HANDLER_RESOLVE: HandlerEvent = Object.freeze({ type: 'handler.resolve' });
const HANDLER_REJECT: HandlerEvent = Object.freeze({ type: 'handler.reject' });
const CANCEL_GRACE: HandlerEvent = Object.freeze({ type: 'timer.cancelGrace' });
const HANDLER_CANCEL = Object.fromEntries(
  CANCEL_REASONS.map((reason) => [reason, Object.freeze({ type: 'handler.cancel', reason })]),
) as Record<CancelReason, HandlerEvent>;

const requestDeadlineOf = (record: HandlerRecord): number => record.deadline;

/** Whether a handler returned a promise (or any thenable). */
export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/** What the in-flight table needs from its session. */
export interface InFlightOwner extends SessionHandle {
  /** The connection actor: the parent of every handler actor. */
  readonly actor: AnyActorRef;
  /** Write an answer (into its batch, if it came in one) through the send guard. */
  answer(batch: Batch | undefined, frame: string): void;
  /** A handler settled, was cancelled or abandoned: the session may drain to idle or finish. */
  handlerReleased(): void;
  /** An `onCancel` listener threw. */
  cancelListenerFailed(error: unknown, record: HandlerRecord): void;
  /** Whether the session is over (no request timer is re-armed then). */
  readonly over: boolean;
  /** The transport's own session id, for `request.started` (see `Transport.protocolSessionId`). */
  readonly protocolSessionId: string | null | undefined;
}

/**
 * The requests of one session whose handlers run or are being cancelled: their handler actors,
 * and the two deadline queues (request timeout, cancel grace). Every decision — answered or late,
 * cancelled or not, abandoned — is read from the handler actor's snapshot after the event that
 * settles it: the actor is the record of what happened.
 */
export class InFlight implements GraceOwner {
  /** Handlers running (not cancelled), in arrival (and so deadline) order. */
  readonly running = new RequestTable<HandlerRecord>();
  /** Handlers cancelled and not yet settled or abandoned (they wait in the runtime's grace queue). */
  private cancelling = 0;
  private requestTimer: unknown = undefined;

  constructor(
    private readonly rt: SessionRuntime,
    private readonly owner: InFlightOwner,
  ) {}

  /** Handlers cancelled but not yet settled or abandoned. */
  get cancellingCount(): number {
    return this.cancelling;
  }

  /** Whether nothing runs and nothing is being cancelled. */
  get empty(): boolean {
    return this.running.size === 0 && this.cancellingCount === 0;
  }

  /** Start the handler of an admitted request as a handler actor. */
  spawn(message: JsonRpcRequest, definition: MethodDefinition, params: unknown, batch: Batch | undefined): void {
    const { limits, clock, counters } = this.rt;
    counters.requests += 1;
    const actor = spawnHandlerActor(this.owner.actor, { requestId: message.id, method: message.method }, this.rt.inspection);
    const now = clock.now();
    const deadline = limits.requestTimeoutMs > 0 ? now + limits.requestTimeoutMs : Infinity;
    const record = new HandlerRecord(this.owner, message.id, message, actor, deadline, batch);
    record.startedAt = now;
    this.running.set(message.id, record);
    if (this.rt.listens('request.started')) {
      const owner = this.owner;
      const protocolSessionId = owner.protocolSessionId;
      this.rt.emit('request.started', { sessionId: owner.id, requestId: message.id, method: message.method, transport: owner.transportKind, params, protocolSessionId });
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
    const actor = record.actor;
    if (actor.getSnapshot().status === 'done') {
      this.rt.counters.lateAnswers += 1;
      return;
    }
    actor.send(HANDLER_RESOLVE);
    if (actor.getSnapshot().output?.kind !== 'result') {
      // Answered after its cancel: the dialect already answered (or forbids an answer).
      this.rt.counters.lateAnswers += 1;
      this.release(record);
      return;
    }
    this.rt.counters.completed += 1;
    this.completed(record, 'result', value);
    let frame: string;
    try {
      frame = encodeResult(record.requestId, value);
    } catch (error) {
      this.rt.logger.error({ sessionId: this.owner.id, requestId: record.requestId, err: error }, 'result not serializable');
      frame = encodeError(record.requestId, { code: ErrorCode.InternalError, message: 'Internal error' });
    }
    // Answer first, then release: releasing the last handler of a draining session closes it.
    this.owner.answer(record.batch, frame);
    this.release(record);
  }

  private onRejected(record: HandlerRecord, error: unknown): void {
    const actor = record.actor;
    if (actor.getSnapshot().status === 'done') {
      this.rt.counters.lateAnswers += 1;
      return;
    }
    actor.send(HANDLER_REJECT);
    if (actor.getSnapshot().output?.kind !== 'error') {
      this.release(record);
      return;
    }
    this.rt.counters.failed += 1;
    this.completed(record, 'error');
    this.rt.emit('request.failed', { sessionId: this.owner.id, requestId: record.requestId, method: record.method, error });
    const wire: JsonRpcErrorObject =
      error instanceof JsonRpcError ? error.toJSON() : { code: ErrorCode.InternalError, message: 'Internal error' };
    if (!(error instanceof JsonRpcError)) {
      this.rt.logger.warn({ sessionId: this.owner.id, requestId: record.requestId, method: record.method, err: error }, 'handler failed');
    }
    let frame: string;
    try {
      frame = encodeError(record.requestId, wire);
    } catch {
      frame = encodeError(record.requestId, { code: wire.code, message: wire.message });
    }
    this.owner.answer(record.batch, frame);
    this.release(record);
  }

  private completed(record: HandlerRecord, outcome: 'result' | 'error', result?: unknown): void {
    if (!this.rt.listens('request.completed')) return;
    const durationMs = this.rt.clock.now() - record.startedAt;
    this.rt.emit('request.completed', { sessionId: this.owner.id, requestId: record.requestId, method: record.method, outcome, durationMs, result });
  }

  /**
   * Cancel every running handler, iterating over a snapshot. They share one {@link CancelledError}
   * for the reason, so a close does not build one error per handler.
   */
  cancelAll(reason: CancelReason): void {
    if (this.running.size === 0) return;
    const error = cancelledError(reason);
    for (const record of [...this.running.values()]) this.cancel(record, reason, error);
  }

  /** A cancel notification from the peer. Unknown or finished ids are ignored. */
  cancelByPeer(requestId: RequestId): void {
    const record = this.running.get(requestId);
    if (record === undefined) return;
    if (this.rt.dialect.cancellable?.(record.method) === false) return;
    this.cancel(record, 'client');
  }

  /** Cancel one running handler with a reason: abort its signal, answer per dialect, arm the grace. */
  cancel(record: HandlerRecord, reason: CancelReason, shared?: CancelledError): void {
    const snapshot = record.actor.getSnapshot();
    if (snapshot.status !== 'active' || snapshot.value !== 'running') return;
    record.actor.send(HANDLER_CANCEL[reason]);
    if (this.running.get(record.requestId) === record) this.running.delete(record.requestId);
    this.rt.counters.cancelled[reason] += 1;
    record.graceDeadline = this.rt.clock.now() + this.rt.limits.cancelGraceMs;
    this.cancelling += 1;
    this.rt.graceQueue.add(record, this);
    if (this.rt.listens('request.cancelled')) this.rt.emit('request.cancelled', { sessionId: this.owner.id, requestId: record.requestId, method: record.method, reason });
    const answer = this.rt.dialect.responseOnCancel(reason);
    if (answer !== undefined) this.owner.answer(record.batch, encodeError(record.requestId, answer));
    else record.batch?.skip();
    record.abort(reason, shared);
    this.owner.handlerReleased();
  }

  /** @internal Its grace passed (called by the runtime's grace queue): abandon the handler. */
  abandon(record: HandlerRecord): void {
    const actor = record.actor;
    if (actor.getSnapshot().status === 'done') return;
    actor.send(CANCEL_GRACE);
    const outcome = actor.getSnapshot().output;
    if (outcome?.kind !== 'abandoned') return;
    this.rt.counters.abandoned += 1;
    this.rt.emit('handler.abandoned', { sessionId: this.owner.id, requestId: record.requestId, method: record.method, reason: outcome.reason });
    this.release(record);
  }

  /** The handler is done (its actor reached `done`): forget it. */
  private release(record: HandlerRecord): void {
    if (this.running.get(record.requestId) === record) this.running.delete(record.requestId);
    else if (this.cancelling > 0 && this.rt.graceQueue.delete(record)) this.cancelling -= 1;
    this.owner.handlerReleased();
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
    if (!this.owner.over) this.armRequestTimer();
  }

  /** The session finished: no timer stays armed. */
  stopTimers(): void {
    if (this.requestTimer !== undefined) this.rt.clock.clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }
}
