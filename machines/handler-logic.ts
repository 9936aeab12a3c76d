import type { ActorLogic, ActorScope, ActorSystem } from 'xstate';
import {
  outcomeOf,
  type HandlerContext,
  type HandlerEvent,
  type HandlerInput,
  type HandlerOutcome,
} from './handler.js';

/**
 * Snapshot of a lean handler actor. Same `value`, `context` and `output` as {@link handlerMachine}.
 *
 * @example
 * ```ts
 * const s: HandlerSnapshot = handlerLogic.getInitialSnapshot(scope, { requestId: 1, method: 'm' });
 * s.value; // 'running'
 * ```
 */
export type HandlerSnapshot =
  | {
      status: 'active';
      value: 'running' | 'cancelling';
      context: HandlerContext;
      output: undefined;
      error: undefined;
    }
  | {
      status: 'done';
      value: 'done';
      context: HandlerContext;
      output: HandlerOutcome;
      error: undefined;
    };

type AnyActorSystem = ActorSystem<any>;

type Scope = ActorScope<HandlerSnapshot, HandlerEvent, AnyActorSystem>;

function settle(s: HandlerSnapshot, settled: HandlerContext['settled']): HandlerSnapshot {
  const context: HandlerContext = {
    requestId: s.context.requestId,
    method: s.context.method,
    reason: s.context.reason,
    settled,
  };
  return { status: 'done', value: 'done', context, output: outcomeOf(context), error: undefined };
}

/**
 * The handler lifecycle as a lean `ActorLogic`: the runtime creates one actor per request from it.
 * It has no closures per request and no dynamic keys, and it never throws, so a handler actor
 * cannot take its session down. Its transitions are those of {@link handlerMachine}, checked event
 * for event by a conformance test.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { handlerLogic } from 'session-supervisor/machines';
 *
 * const h = createActor(handlerLogic, { input: { requestId: 1, method: 'echo' } }).start();
 * h.send({ type: 'handler.resolve' });
 * h.getSnapshot().output; // { kind: 'result' }
 * ```
 */
export const handlerLogic: ActorLogic<HandlerSnapshot, HandlerEvent, HandlerInput, AnyActorSystem> = {
  config: 'session-supervisor.handler',
  transition(snapshot: HandlerSnapshot, event: HandlerEvent, _scope: Scope): HandlerSnapshot {
    if (snapshot.status !== 'active') return snapshot;
    if (snapshot.value === 'running') {
      switch (event.type) {
        case 'handler.resolve':
          return settle(snapshot, 'result');
        case 'handler.reject':
          return settle(snapshot, 'error');
        case 'handler.cancel':
          return {
            status: 'active',
            value: 'cancelling',
            context: {
              requestId: snapshot.context.requestId,
              method: snapshot.context.method,
              reason: event.reason,
              settled: null,
            },
            output: undefined,
            error: undefined,
          };
        default:
          return snapshot;
      }
    }
    switch (event.type) {
      case 'handler.resolve':
      case 'handler.reject':
        return settle(snapshot, 'cancelled');
      case 'timer.cancelGrace':
        return settle(snapshot, 'abandoned');
      default:
        return snapshot;
    }
  },
  getInitialSnapshot(_scope: Scope, input: HandlerInput): HandlerSnapshot {
    return {
      status: 'active',
      value: 'running',
      context: { requestId: input.requestId, method: input.method, reason: null, settled: null },
      output: undefined,
      error: undefined,
    };
  },
  getPersistedSnapshot(snapshot: HandlerSnapshot): HandlerSnapshot {
    return snapshot;
  },
};
