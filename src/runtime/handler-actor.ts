import {
  createActor,
  toObserver,
  type ActorRef,
  type AnyActorRef,
  type InspectionEvent,
  type InteropSubscribable,
  type Observer,
  type Readable,
  type Subscription,
} from 'xstate';
import { handlerLogic, type HandlerSnapshot } from '../../machines/handler-logic.js';
import type { HandlerEvent, HandlerInput } from '../../machines/handler.js';

/** A handler actor as the runtime uses it: an `ActorRef` running {@link handlerLogic}. */
export type HandlerActor = ActorRef<HandlerSnapshot, HandlerEvent>;

type Inspected = InspectionEvent extends infer E ? (E extends unknown ? Omit<E, 'rootId'> : never) : never;

/** The two members of xstate's actor system that a lean actor needs to take part in inspection. */
interface SystemInternals {
  _bookId(): string;
  _sendInspectionEvent(event: Inspected): void;
}

const NO_SUBSCRIPTION: Subscription = { unsubscribe: () => {} };

function internalsOf(parent: AnyActorRef): SystemInternals | undefined {
  const system = parent.system as Partial<SystemInternals>;
  return typeof system._bookId === 'function' && typeof system._sendInspectionEvent === 'function'
    ? (system as SystemInternals)
    : undefined;
}

/**
 * One handler actor, lean: it runs {@link handlerLogic} directly, without xstate's mailbox,
 * observer set, deferred queue and bound methods (the `Actor` constructor was 10–20 % of the request
 * path's CPU). It is still an `ActorRef` in the connection's actor system: it books a session id
 * there, and reports `@xstate.actor`, `@xstate.event` and `@xstate.snapshot` exactly as an xstate
 * actor does, so every `inspect` observer sees each handler's whole life. It processes events
 * synchronously (the logic never sends anything, so there is nothing to queue) and drops events once
 * done, like a stopped xstate actor.
 */
class LeanHandlerActor implements HandlerActor {
  readonly sessionId: string;
  readonly system: AnyActorRef['system'];
  readonly src = handlerLogic;
  readonly logic = handlerLogic;
  readonly ref = this;
  private snapshot: HandlerSnapshot;
  private observers: Set<Observer<HandlerSnapshot>> | undefined = undefined;

  constructor(
    readonly _parent: AnyActorRef,
    readonly id: string,
    input: HandlerInput,
    private readonly internals: SystemInternals,
  ) {
    this.system = _parent.system;
    this.sessionId = internals._bookId();
    this.snapshot = handlerLogic.getInitialSnapshot(undefined as never, input);
    const init = { type: 'xstate.init', input };
    internals._sendInspectionEvent({ type: '@xstate.actor', actorRef: this });
    internals._sendInspectionEvent({ type: '@xstate.event', sourceRef: _parent, actorRef: this, event: init });
    internals._sendInspectionEvent({ type: '@xstate.snapshot', actorRef: this, event: init, snapshot: this.snapshot });
  }

  send(event: HandlerEvent): void {
    if (this.snapshot.status !== 'active') return;
    this.internals._sendInspectionEvent({ type: '@xstate.event', sourceRef: undefined, actorRef: this, event });
    const next = handlerLogic.transition(this.snapshot, event, undefined as never);
    this.snapshot = next;
    if (this.observers !== undefined) {
      for (const observer of [...this.observers]) observer.next?.(next);
      if (next.status === 'done') {
        for (const observer of [...this.observers]) observer.complete?.();
        this.observers = undefined;
      }
    }
    this.internals._sendInspectionEvent({ type: '@xstate.snapshot', actorRef: this, event, snapshot: next });
  }

  getSnapshot(): HandlerSnapshot {
    return this.snapshot;
  }

  getPersistedSnapshot(): HandlerSnapshot {
    return this.snapshot;
  }

  /** Started on creation. */
  start(): void {}

  /** A handler actor is stopped by its runtime (it reaches `done`), never from outside. */
  stop(): void {}

  subscribe(
    nextOrObserver?: Observer<HandlerSnapshot> | ((snapshot: HandlerSnapshot) => void),
    errorListener?: (error: unknown) => void,
    completeListener?: () => void,
  ): Subscription {
    const observer = toObserver(nextOrObserver, errorListener, completeListener);
    if (this.snapshot.status !== 'active') {
      observer.complete?.();
      return NO_SUBSCRIPTION;
    }
    (this.observers ??= new Set()).add(observer);
    return { unsubscribe: () => this.observers?.delete(observer) };
  }

  /** The handler logic emits nothing. */
  on(): Subscription {
    return NO_SUBSCRIPTION;
  }

  select<T>(selector: (snapshot: HandlerSnapshot) => T, equalityFn: (a: T, b: T) => boolean = Object.is): Readable<T> {
    return {
      get: () => selector(this.snapshot),
      subscribe: (observerOrFn) => {
        const observer = toObserver(observerOrFn);
        let previous = selector(this.snapshot);
        return this.subscribe((snapshot) => {
          const selected = selector(snapshot);
          if (!equalityFn(previous, selected)) {
            previous = selected;
            observer.next?.(selected);
          }
        });
      },
    };
  }

  toJSON(): { xstate$$type: number; id: string } {
    return { xstate$$type: 1, id: this.id };
  }

  declare [Symbol.observable]: () => InteropSubscribable<HandlerSnapshot>;
}

// xstate keys interop observables by `Symbol.observable` where it exists, '@@observable' elsewhere.
const OBSERVABLE_KEY: PropertyKey = (Symbol as { observable?: symbol }).observable ?? '@@observable';
Object.defineProperty(LeanHandlerActor.prototype, OBSERVABLE_KEY, {
  value(this: LeanHandlerActor) {
    return this;
  },
});

/**
 * Create and start the actor of one request, as a child of the connection actor. Falls back to
 * xstate's own `createActor` when the actor system does not offer what the lean actor needs (a
 * future xstate), so behaviour never depends on it — only speed does.
 */
export function spawnHandlerActor(parent: AnyActorRef, id: string, input: HandlerInput): HandlerActor {
  const internals = internalsOf(parent);
  if (internals !== undefined) return new LeanHandlerActor(parent, id, input, internals);
  return createActor(handlerLogic, { parent, id, input }).start();
}
