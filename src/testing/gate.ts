import type { RequestId } from '../../machines/handler.js';
import type { RequestContext } from '../runtime/methods.js';

/**
 * How the test tells a held request to finish: return normally (`result`) or throw (`error`).
 *
 * @example
 * ```ts
 * gate.release('s1', 1, 'error');
 * ```
 */
export type GateOutcome = 'result' | 'error';

/**
 * The error a held request throws when the test releases it with `'error'`.
 *
 * @example
 * ```ts
 * try { await gate.hold(ctx); } catch (e) { e instanceof GateReleasedError; }
 * ```
 */
export class GateReleasedError extends Error {
  readonly code = 'ERR_GATE_RELEASED';

  constructor(requestId: RequestId) {
    super(`request ${String(requestId)} was released with an error by the test`);
    this.name = 'GateReleasedError';
  }
}

/**
 * A gate the slow method of a server under test waits on. `hold(ctx)` returns a promise that settles
 * only when the test releases that request — not when its signal aborts — so the model can observe a
 * cancelled handler that is still running (`cancelling`), release it late (`handler.resolve` in
 * `cancelling`) or let the grace pass (`timer.cancelGrace`, abandoned).
 *
 * @example
 * ```ts
 * const gate = createTestGate();
 * const methods = {
 *   slow: async (_params: unknown, ctx: RequestContext) => {
 *     await gate.hold(ctx);
 *     return { done: true };
 *   },
 * };
 * // later, in the test:
 * gate.release('s1', 1, 'result');
 * ```
 */
export interface TestGate {
  /** Wait until the test releases this request (resolves for `result`, rejects for `error`). */
  hold(ctx: Pick<RequestContext, 'requestId' | 'session'> & { readonly signal?: AbortSignal }): Promise<void>;
  /** The signal of a request that was held (also after its release), if its context had one. */
  signalOf(sessionId: string, requestId: RequestId): AbortSignal | undefined;
  /** Release one held request; `false` if it is not held. */
  release(sessionId: string, requestId: RequestId, outcome: GateOutcome): boolean;
  /** Release every held request. Returns how many were released. */
  releaseAll(outcome: GateOutcome): number;
  /** Whether this request is waiting at the gate. */
  isHeld(sessionId: string, requestId: RequestId): boolean;
  /** How many requests are waiting at the gate. */
  readonly size: number;
}

const keyOf = (sessionId: string, requestId: RequestId): string => `${sessionId}\u0000${typeof requestId}:${String(requestId)}`;

/**
 * Create a {@link TestGate}.
 *
 * @example
 * ```ts
 * const gate = createTestGate();
 * gate.size; // 0
 * ```
 */
export function createTestGate(): TestGate {
  const held = new Map<string, { resolve(): void; reject(error: Error): void; requestId: RequestId }>();
  const signals = new Map<string, AbortSignal>();
  const settle = (key: string, outcome: GateOutcome): boolean => {
    const entry = held.get(key);
    if (entry === undefined) return false;
    held.delete(key);
    if (outcome === 'result') entry.resolve();
    else entry.reject(new GateReleasedError(entry.requestId));
    return true;
  };
  return {
    hold(ctx) {
      const key = keyOf(ctx.session.id, ctx.requestId);
      if (ctx.signal !== undefined) signals.set(key, ctx.signal);
      return new Promise<void>((resolve, reject) => {
        held.set(key, { resolve, reject, requestId: ctx.requestId });
      });
    },
    release: (sessionId, requestId, outcome) => settle(keyOf(sessionId, requestId), outcome),
    releaseAll(outcome) {
      let count = 0;
      for (const key of [...held.keys()]) if (settle(key, outcome)) count += 1;
      return count;
    },
    isHeld: (sessionId, requestId) => held.has(keyOf(sessionId, requestId)),
    signalOf: (sessionId, requestId) => signals.get(keyOf(sessionId, requestId)),
    get size() {
      return held.size;
    },
  };
}
