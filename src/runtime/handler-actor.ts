import type { ActorRef, AnyActorRef, InspectionEvent, Observer } from 'xstate';
import { handlerLogic, type HandlerSnapshot } from '../../machines/handler-logic.js';
import type { HandlerEvent, HandlerInput } from '../../machines/handler.js';
import { LeanActorRef } from './lean-actor.js';

/** A handler actor as the runtime uses it: an `ActorRef` running {@link handlerLogic}. */
export type HandlerActor = ActorRef<HandlerSnapshot, HandlerEvent>;

/** An inspection event before the sink adds the `rootId`. */
type Inspected = InspectionEvent extends infer E ? (E extends unknown ? Omit<E, 'rootId'> : never) : never;

/**
 * Where handler actors report their inspection events: the supervisor's own list of `inspect`
 * observers (the one given at creation and any attached later), under the supervisor actor's
 * `rootId`. Handler actors are not xstate `Actor`s, so they do not go through the actor system; the
 * events they send are the ones an xstate actor sends (`@xstate.actor`, `@xstate.event`,
 * `@xstate.snapshot`), so every observer sees each handler's whole life.
 */
export class InspectionSink {
  private observers: Observer<InspectionEvent>[] = [];
  private nextId = 0;

  constructor(private readonly root: AnyActorRef) {}

  /** Whether anyone inspects (handler actors build no event otherwise). */
  get active(): boolean {
    return this.observers.length > 0;
  }

  /** Add an observer; returns the function that removes it. */
  add(observer: Observer<InspectionEvent>): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  /** A system-wide unique session id for a handler actor (`s1/h7`), from the runtime. */
  bookId(parent: AnyActorRef): string {
    this.nextId += 1;
    return `${parent.sessionId}/h${this.nextId}`;
  }

  send(event: Inspected): void {
    const full = { ...event, rootId: this.root.sessionId } as InspectionEvent;
    for (const observer of this.observers) observer.next?.(full);
  }
}

/**
 * One handler actor, lean: it runs {@link handlerLogic} directly, without xstate's mailbox,
 * observer set, deferred queue and bound methods (the `Actor` constructor was 10–20 % of the request
 * path's CPU). It is an `ActorRef` whose parent is the connection actor; its inspection events go
 * to the supervisor's {@link InspectionSink}. It processes events synchronously (the logic never
 * sends anything, so there is nothing to queue) and drops events once done, like a stopped xstate
 * actor. Everything here is xstate's public API: `ActorRef`, the inspection events.
 */
class LeanHandlerActor extends LeanActorRef<HandlerSnapshot> implements HandlerActor {
  readonly sessionId: string;
  readonly system: AnyActorRef['system'];
  readonly src = handlerLogic;
  readonly logic = handlerLogic;
  readonly ref = this;
  protected snapshot: HandlerSnapshot;

  constructor(
    readonly _parent: AnyActorRef,
    private readonly input: HandlerInput,
    private readonly sink: InspectionSink,
  ) {
    super();
    this.system = _parent.system;
    this.snapshot = handlerLogic.getInitialSnapshot(undefined as never, input);
    if (sink.active) {
      this.sessionId = sink.bookId(_parent);
      const init = { type: 'xstate.init', input };
      sink.send({ type: '@xstate.actor', actorRef: this });
      sink.send({ type: '@xstate.event', sourceRef: _parent, actorRef: this, event: init });
      sink.send({ type: '@xstate.snapshot', actorRef: this, event: init, snapshot: this.snapshot });
    } else {
      this.sessionId = '';
    }
  }

  /** `request:<id>`, the id xstate would give a spawned actor; made when asked for (inspection, `toJSON`). */
  get id(): string {
    return `request:${String(this.input.requestId)}`;
  }

  send(event: HandlerEvent): void {
    if (this.snapshot.status !== 'active') return;
    const inspected = this.sessionId !== '' && this.sink.active;
    if (inspected) this.sink.send({ type: '@xstate.event', sourceRef: undefined, actorRef: this, event });
    const next = handlerLogic.transition(this.snapshot, event, undefined as never);
    this.publish(next);
    if (inspected) this.sink.send({ type: '@xstate.snapshot', actorRef: this, event, snapshot: next });
  }

  /** Started on creation. */
  start(): void {}
}

/**
 * Create and start the actor of one request (id `request:<requestId>`), as a child of the
 * connection actor; its inspection events go to `sink`.
 */
export function spawnHandlerActor(parent: AnyActorRef, input: HandlerInput, sink: InspectionSink): HandlerActor {
  return new LeanHandlerActor(parent, input, sink);
}
