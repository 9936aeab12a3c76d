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
function cancelledError(reason: CancelReason): CancelledError {
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
  /** Set once the handler settled (result, error, cancelled, abandoned). */
  done = false;
  /** Set when cancelled. */
  cancelReason: CancelReason | undefined = undefined;
  /** When a cancelled handler that has not settled is abandoned (clock time). */
  graceDeadline = 0;
  /** When the handler started, on the supervisor's clock (for `request.completed`). */
  startedAt = 0;
  private controller: AbortController | undefined = undefined;

  constructor(
    readonly session: SessionHandle,
    readonly requestId: RequestId,
    readonly message: JsonRpcRequest,
    readonly actor: HandlerActor,
    readonly deadline: number,
    readonly batch: Batch | undefined,
  ) {}

  get method(): string {
    return this.message.method;
  }

  /** Created on first use; aborted exactly when the request is cancelled. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.cancelReason !== undefined) this.controller.abort(cancelledError(this.cancelReason));
    }
    return this.controller.signal;
  }

  /** Abort the signal (if anyone holds it) with the reason. */
  abort(reason: CancelReason): void {
    this.cancelReason = reason;
    this.controller?.abort(cancelledError(reason));
  }
}
