import type { RequestId } from '../../machines/handler.js';
import type { CancelReason } from '../../machines/reasons.js';
import type { JsonRpcRequest } from '../jsonrpc/schema.js';
import type { Batch } from './batch.js';
import { CancelledError, type RequestContext, type SessionHandle } from './methods.js';

import type { HandlerActor } from './handler-actor.js';

/**
 * A {@link CancelledError} without a captured stack: its stack would only show the runtime's
 * cancel path, and capturing it was the largest single cost of cancelling 10k handlers.
 */
export function cancelledError(reason: CancelReason): CancelledError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new CancelledError(reason);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The runtime's bookkeeping for one in-flight request, and the context its handler receives.
 * One object per request: no closures per request beyond the promise callbacks.
 */
export class HandlerRecord implements RequestContext {
  /**
   * When a cancelled handler that has not settled is abandoned (clock time); NaN until cancelled.
   * Clock times are fractional: starting with a number that is not a small integer keeps V8 from
   * migrating every record's shape when the first cancel writes one (10k migrations per cancel-all).
   */
  graceDeadline = Number.NaN;
  /** When the handler started, on the supervisor's clock (for `request.completed`). */
  startedAt = 0;
  private controller: AbortController | undefined = undefined;
  /** The reason of the cancel, as an error: one object for the signal and every listener. */
  private cancelError: CancelledError | undefined = undefined;
  /** `onCancel` listeners: one held directly (the common case), more in an array. */
  private listeners: CancelListener | CancelListener[] | undefined = undefined;

  constructor(
    readonly session: SessionHandle & ListenerErrorSink,
    readonly requestId: RequestId,
    readonly message: JsonRpcRequest,
    readonly actor: HandlerActor,
    readonly deadline: number,
    readonly batch: Batch | undefined,
  ) {}

  get method(): string {
    return this.message.method;
  }

  /** Whether the handler settled (result, error, cancelled, abandoned): its actor is done. */
  get done(): boolean {
    return this.actor.getSnapshot().status === 'done';
  }

  /** The reason it was cancelled with, read from its actor (`null`: not cancelled). */
  get cancelReason(): CancelReason | null {
    return this.actor.getSnapshot().context.reason;
  }

  /** Created on first use; aborted exactly when the request is cancelled. */
  get cancelled(): boolean {
    return this.cancelReason !== null;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      const reason = this.cancelReason;
      if (reason !== null) this.controller.abort(this.errorFor(reason));
    }
    return this.controller.signal;
  }

  onCancel(listener: CancelListener): () => void {
    const reason = this.cancelReason;
    if (reason !== null) {
      this.call(listener, this.errorFor(reason));
      return noop;
    }
    const held = this.listeners;
    if (held === undefined) this.listeners = listener;
    else if (typeof held === 'function') this.listeners = [held, listener];
    else held.push(listener);
    return () => this.removeListener(listener);
  }

  /**
   * Cancel: abort the signal (if anyone holds it) and call the `onCancel` listeners, all with one
   * {@link CancelledError} — `shared` when the caller cancels many handlers for one reason at once
   * (as `AbortSignal.any` hands its one reason to every dependent signal), else one of its own.
   * A throwing listener is reported to the session, and the others still run. Called once the
   * handler actor took its `handler.cancel` (so `cancelReason` reads `reason`).
   */
  abort(reason: CancelReason, shared?: CancelledError): void {
    if (shared !== undefined) this.cancelError = shared;
    if (this.controller === undefined && this.listeners === undefined) return;
    const error = this.errorFor(reason);
    this.controller?.abort(error);
    // Read after the signal's own listeners ran: they may have removed some of these.
    const listeners = this.listeners;
    if (listeners === undefined) return;
    if (typeof listeners === 'function') {
      this.listeners = undefined;
      this.call(listeners, error);
      return;
    }
    // A listener may remove one that has not run yet, as `removeEventListener` can during an abort:
    // walk a copy and skip what is gone from the live list. One added now runs at once (above).
    for (const listener of [...listeners]) if (listeners.includes(listener)) this.call(listener, error);
    this.listeners = undefined;
  }

  private errorFor(reason: CancelReason): CancelledError {
    return (this.cancelError ??= cancelledError(reason));
  }

  private call(listener: CancelListener, error: CancelledError): void {
    try {
      listener(error);
    } catch (thrown) {
      this.session.cancelListenerFailed(thrown, this);
    }
  }

  private removeListener(listener: CancelListener): void {
    const held = this.listeners;
    if (held === listener) this.listeners = undefined;
    else if (Array.isArray(held)) {
      const at = held.indexOf(listener);
      if (at !== -1) held.splice(at, 1);
    }
  }
}

type CancelListener = (reason: CancelledError) => void;
/** Where a throwing `onCancel` listener is reported: the session, which logs it. */
interface ListenerErrorSink {
  cancelListenerFailed(error: unknown, record: HandlerRecord): void;
}

const noop = (): void => {};
