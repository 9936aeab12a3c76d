import { assign, setup } from 'xstate';
import type { CancelReason } from './reasons.js';

/**
 * A JSON-RPC request id: a string or a number (`0` is a valid id).
 *
 * @example
 * ```ts
 * const id: RequestId = 0;
 * ```
 */
export type RequestId = string | number;

/**
 * Events of a handler actor.
 *
 * @example
 * ```ts
 * const event: HandlerEvent = { type: 'handler.cancel', reason: 'client' };
 * ```
 */
export type HandlerEvent =
  | { type: 'handler.resolve' }
  | { type: 'handler.reject' }
  | { type: 'handler.cancel'; reason: CancelReason }
  | { type: 'timer.cancelGrace' };

/**
 * Context of a handler actor.
 *
 * @example
 * ```ts
 * const ctx: HandlerContext = { requestId: 1, method: 'echo', reason: null, settled: null };
 * ```
 */
export interface HandlerContext {
  requestId: RequestId;
  method: string;
  /** The cancellation reason, once cancelled. */
  reason: CancelReason | null;
  /** How it settled, once done. */
  settled: HandlerOutcome['kind'] | null;
}

/**
 * Input of a handler actor.
 *
 * @example
 * ```ts
 * const input: HandlerInput = { requestId: 7, method: 'tools/call' };
 * ```
 */
export interface HandlerInput {
  requestId: RequestId;
  method: string;
}

/**
 * How a handler settled — exactly once.
 *
 * - `result` / `error`: the user's function returned or threw while running.
 * - `cancelled`: it was cancelled and then settled (its late answer is dropped).
 * - `abandoned`: it was cancelled and ignored its signal for longer than `cancelGraceMs`.
 *
 * @example
 * ```ts
 * const outcome: HandlerOutcome = { kind: 'cancelled', reason: 'client' };
 * ```
 */
export type HandlerOutcome =
  | { kind: 'result' }
  | { kind: 'error' }
  | { kind: 'cancelled'; reason: CancelReason }
  | { kind: 'abandoned'; reason: CancelReason };

/**
 * The lifecycle of one in-flight request: `running` → `cancelling` → `done`, or `running` → `done`.
 *
 * This is the reference definition (for diagrams, the Stately tools and model-based tests). The
 * runtime runs the same lifecycle with {@link handlerLogic}, a lean `ActorLogic` that a conformance
 * test checks against this machine event for event.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { handlerMachine } from 'session-supervisor/machines';
 *
 * const h = createActor(handlerMachine, { input: { requestId: 1, method: 'sleep' } }).start();
 * h.send({ type: 'handler.cancel', reason: 'client' });
 * h.getSnapshot().value; // 'cancelling'
 * h.send({ type: 'timer.cancelGrace' });
 * h.getSnapshot().output; // { kind: 'abandoned', reason: 'client' }
 * ```
 */
export const handlerMachine = setup({
  types: {
    context: {} as HandlerContext,
    events: {} as HandlerEvent,
    input: {} as HandlerInput,
    output: {} as HandlerOutcome,
  },
}).createMachine({
  id: 'handler',
  context: ({ input }) => ({ requestId: input.requestId, method: input.method, reason: null, settled: null }),
  initial: 'running',
  states: {
    running: {
      on: {
        'handler.resolve': { target: 'done', actions: assign({ settled: 'result' }) },
        'handler.reject': { target: 'done', actions: assign({ settled: 'error' }) },
        'handler.cancel': {
          target: 'cancelling',
          actions: assign({ reason: ({ event }) => event.reason }),
        },
      },
    },
    cancelling: {
      on: {
        'handler.resolve': { target: 'done', actions: assign({ settled: 'cancelled' }) },
        'handler.reject': { target: 'done', actions: assign({ settled: 'cancelled' }) },
        'timer.cancelGrace': { target: 'done', actions: assign({ settled: 'abandoned' }) },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => outcomeOf(context),
});

/**
 * The outcome a settled handler context stands for.
 *
 * @example
 * ```ts
 * outcomeOf({ requestId: 1, method: 'm', reason: 'client', settled: 'cancelled' });
 * // { kind: 'cancelled', reason: 'client' }
 * ```
 */
export function outcomeOf(context: HandlerContext): HandlerOutcome {
  const reason = context.reason ?? 'shutdown';
  switch (context.settled) {
    case 'result':
      return { kind: 'result' };
    case 'error':
      return { kind: 'error' };
    case 'abandoned':
      return { kind: 'abandoned', reason };
    default:
      return { kind: 'cancelled', reason };
  }
}
