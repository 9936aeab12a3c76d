import type { ActorRef, AnyActorRef } from 'xstate';
import type { ConnectionEvent } from '../../machines/connection.js';
import {
  connectionLogicLean,
  initialConnectionSnapshot,
  startConnection,
  stepConnection,
  type ConnectionEffects,
  type ConnectionSnapshot,
} from '../../machines/connection-logic.js';
import type { InspectionSink } from './handler-actor.js';
import { LeanActorRef } from './lean-actor.js';

/**
 * One connection actor, lean: it runs {@link connectionLogicLean} (the connection machine's
 * decisions and actions, conformance-tested against `connectionMachine`) without xstate's
 * interpreter, for connections that live for one exchange (a modern Streamable HTTP POST), where
 * creating, draining and closing an xstate actor was most of the request's CPU.
 *
 * Like an xstate actor it is an `ActorRef` with id `connection` under its parent (the supervisor
 * actor); it processes one event at a time and queues the events its own actions send (run-to-
 * completion); during a step's actions `getSnapshot()` still reads the state before the step;
 * observers see each new snapshot, `complete` when it reaches `closed`, `error` (and the parent
 * `xstate.error.actor.connection`) when an action throws. Its inspection events go to the
 * supervisor's {@link InspectionSink}. xstate's public API only.
 *
 * @example
 * ```ts
 * const actor = new LeanConnectionActor(supervisor.actor, 's1', effects, sink);
 * actor.start();
 * actor.send({ type: 'transport.closed' });
 * ```
 */
export class LeanConnectionActor extends LeanActorRef<ConnectionSnapshot> implements ActorRef<ConnectionSnapshot, ConnectionEvent> {
  readonly id = 'connection';
  readonly sessionId: string;
  readonly system: AnyActorRef['system'];
  readonly src = connectionLogicLean;
  readonly logic = connectionLogicLean;
  readonly ref = this;
  protected snapshot: ConnectionSnapshot;
  private started = false;
  private processing = false;
  private queue: ConnectionEvent[] | undefined = undefined;

  constructor(
    readonly _parent: AnyActorRef,
    connectionId: string,
    private readonly effects: ConnectionEffects,
    private readonly sink: InspectionSink,
  ) {
    super();
    this.system = _parent.system;
    this.snapshot = initialConnectionSnapshot({ sessionId: connectionId });
    if (sink.active) {
      this.sessionId = sink.bookId(_parent);
      sink.send({ type: '@xstate.actor', actorRef: this });
    } else {
      this.sessionId = '';
    }
  }

  private get inspected(): boolean {
    return this.sessionId !== '' && this.sink.active;
  }

  /** Enter `open.connected` (its entry action `admit` runs). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const init = { type: 'xstate.init', input: { sessionId: this.snapshot.context.sessionId } };
    if (this.inspected) this.sink.send({ type: '@xstate.event', sourceRef: this._parent, actorRef: this, event: init });
    this.processing = true;
    try {
      startConnection(this.snapshot, this.effects);
    } catch (error) {
      this.processing = false;
      this.failed(error);
      return;
    }
    this.processing = false;
    if (this.inspected) this.sink.send({ type: '@xstate.snapshot', actorRef: this, event: init, snapshot: this.snapshot });
    this.drainQueue();
  }

  send(event: ConnectionEvent): void {
    if (this.snapshot.status !== 'active') return;
    if (this.processing || !this.started) {
      (this.queue ??= []).push(event);
      return;
    }
    this.process(event);
    this.drainQueue();
  }

  private drainQueue(): void {
    const queue = this.queue;
    if (queue === undefined) return;
    while (queue.length > 0 && this.snapshot.status === 'active') this.process(queue.shift()!);
    this.queue = undefined;
  }

  private process(event: ConnectionEvent): void {
    const inspected = this.inspected;
    if (inspected) this.sink.send({ type: '@xstate.event', sourceRef: undefined, actorRef: this, event });
    let next: ConnectionSnapshot;
    this.processing = true;
    try {
      next = stepConnection(this.snapshot, event, this.effects);
    } catch (error) {
      this.processing = false;
      this.failed(error);
      return;
    }
    this.processing = false;
    if (next === this.snapshot) return;
    this.publish(next);
    if (inspected) this.sink.send({ type: '@xstate.snapshot', actorRef: this, event, snapshot: next });
  }

  /** An action threw: the actor fails (status `error`), like an xstate actor, and tells its parent. */
  private failed(error: unknown): void {
    const s = this.snapshot;
    this.queue = undefined;
    this.publishError({ status: 'error', value: s.value, context: s.context, output: undefined, error, hasTag: () => false });
    this._parent.send({ type: 'xstate.error.actor.connection', error });
  }
}
