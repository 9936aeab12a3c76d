import { createActor, type Actor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { connectionMachine, connectionPhase, type ConnectionPhase } from '../../machines/connection.js';
import type { CancelReason, DrainReason } from '../../machines/reasons.js';
import type { Clock } from './clock.js';
import { LeanConnectionActor } from './connection-actor.js';
import type { InspectionSink } from './handler-actor.js';

/**
 * A connection actor as the runtime runs it: an xstate actor of {@link connectionLogic}, or (for a
 * connection that lives for one exchange) a {@link LeanConnectionActor} making the same decisions.
 */
export type ConnectionActor = Actor<typeof connectionLogic> | LeanConnectionActor;

/**
 * What a connection driver asks of the thing it drives (a runtime session, the SDK guard): the
 * side effects of the machine's actions. The driver itself owns every decision.
 */
export interface DriverHost {
  /** Whether any handler still runs (a draining connection with none closes at once). */
  readonly busy: boolean;
  /** Cancel every live handler with `reason`, iterating over a snapshot. */
  cancelHandlers(reason: CancelReason): void;
  /** Close the transport (both directions). */
  closeTransport(reason: CancelReason | null): void;
  /** The connection started draining. */
  drainStarted?(reason: DrainReason): void;
  /** The actor stopped: it reached `closed`, or it failed (`error` set; the driver already blocked everything). */
  actorStopped(error?: unknown): void;
}

const drivers = new WeakMap<AnyActorRef, ConnectionDriver>();

function driverOf(self: AnyActorRef): ConnectionDriver | undefined {
  return drivers.get(self);
}

/**
 * The connection machine with the driver's action implementations, made once for every connection:
 * each action finds its driver from the actor it runs in (`self`). Connection actors all have the
 * id `connection` (their identity is `sessionId`, in context), so the events xstate relays to a
 * parent (`xstate.done.actor.connection`, `xstate.error.actor.connection`) have one type each.
 */
export const connectionLogic = connectionMachine.provide({
  actions: {
    admit: ({ self }) => driverOf(self)?.admit(),
    stopAdmitting: ({ self }) => driverOf(self)?.stopAdmitting(),
    blockSends: ({ self }) => driverOf(self)?.blockSends(),
    startDrainTimer: ({ self }) => driverOf(self)?.startDrainTimer(),
    stopDrainTimer: ({ self }) => driverOf(self)?.stopDrainTimer(),
    drainStarted: ({ self }, params) => driverOf(self)?.drainStarted(params.reason),
    cancelHandlers: ({ self }, params) => driverOf(self)?.cancelHandlers(params.reason),
    closeTransport: ({ self }, params) => driverOf(self)?.closeTransport(params.reason),
  },
});

/**
 * The one driver of a connection actor. It owns the actor and is the only thing that decides from
 * it: admission and the send gate are the values the machine's own actions publish in the same
 * step (`admit` / `stopAdmitting` / `blockSends`, matching the `admits` and `may-send` tags), the
 * phase is read from the snapshot, and a failed actor (status `error`) admits and sends nothing.
 * Session failure is the machine's event (`session.close` with `session-failed`), never a field.
 * Runtime sessions (ws, stdio, HTTP exchanges, memory) and the SDK guard all run on it.
 *
 * @example
 * ```ts
 * const driver = new ConnectionDriver(host, 's1', systemClock, 10_000);
 * driver.start();
 * driver.inputEnded(); // → draining; closes once host.busy is false
 * ```
 */
export class ConnectionDriver {
  readonly actor: ConnectionActor;
  private admitting = false;
  private gateOpen = true;
  private drainTimer: unknown = undefined;
  private drainTimerWanted = false;

  /**
   * @param sessionId the connection's id (`s1`, `guard1`, …): the actor's input, so inspection tells them apart.
   * @param parent the supervisor actor, when there is one: the connection joins its actor system.
   * @param inspect an inspection observer, for a connection without a parent (a parent's system has its own).
   * @param lean run a {@link LeanConnectionActor} under `parent` (required then) reporting inspection
   *   to this sink, instead of an xstate actor: for connections of one exchange.
   */
  constructor(
    readonly host: DriverHost,
    sessionId: string,
    private readonly clock: Clock,
    private readonly drainTimeoutMs: number,
    parent?: AnyActorRef,
    inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void),
    lean?: InspectionSink,
  ) {
    if (lean !== undefined && parent !== undefined) {
      this.actor = new LeanConnectionActor(parent, sessionId, this, lean);
    } else {
      this.actor = createActor(connectionLogic, {
        id: 'connection',
        input: { sessionId },
        ...(parent === undefined ? {} : { parent }),
        ...(inspect === undefined ? {} : { inspect }),
      });
      drivers.set(this.actor, this);
    }
    (this.actor as { subscribe(observer: Observer<{ status: string }>): unknown }).subscribe(new StopWatch(this));
  }

  /** Start the actor (it enters `open.connected`: admission opens). */
  start(): void {
    this.actor.start();
  }

  /** `connected`, `draining` or `closed` (a stopped or failed actor reads `closed`). */
  get phase(): ConnectionPhase {
    return connectionPhase(this.actor.getSnapshot());
  }

  /** Whether a new request is admitted: published by the machine's `admit` / `stopAdmitting`. */
  get admits(): boolean {
    return this.admitting;
  }

  /** Whether a frame may be sent: published by the machine's `blockSends`; never after a failure. */
  get maySend(): boolean {
    return this.gateOpen;
  }

  /** Whether the actor failed (a throwing action, a bug in a wrapper). */
  get failed(): boolean {
    return this.actor.getSnapshot().status === 'error';
  }

  /** Why the connection closed (`null`: drained idle, or still open). */
  get closeReason(): CancelReason | null {
    return this.failed ? 'session-failed' : this.actor.getSnapshot().context.closeReason;
  }

  /** Why it started draining, once it has. */
  get drainReason(): DrainReason | null {
    return this.actor.getSnapshot().context.drainReason;
  }

  // ---- events ---------------------------------------------------------------------------------

  /** The peer will send nothing more (a half-close): drain. */
  inputEnded(): void {
    this.send({ type: 'transport.inputEnded' });
  }

  /** The output is gone: close; live handlers are cancelled with `transport-closed`. */
  outputClosed(): void {
    this.send({ type: 'transport.closed' });
  }

  /** Stop admitting; let in-flight handlers finish within the drain timeout. */
  drain(): void {
    this.send({ type: 'session.drain' });
  }

  /** Close now: live handlers are cancelled with `reason`. */
  close(reason: CancelReason): void {
    this.send({ type: 'session.close', reason });
  }

  /** A handler settled: a draining connection with none left closes. */
  settled(): void {
    if (!this.host.busy && this.phase === 'draining') this.send({ type: 'handlers.idle' });
  }

  /**
   * The connection's own machinery failed: close it alone with `session-failed`. If the actor
   * itself cannot take the event (it already failed), everything is blocked and the host cleans up.
   */
  fail(): void {
    this.close('session-failed');
  }

  private send(event: Parameters<ConnectionActor['send']>[0]): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send(event);
  }

  // ---- what the machine's actions do (called through connectionLogic or the lean logic) ----------

  /** @internal The machine's `admit`: publish that new requests are admitted. */
  admit(): void {
    this.admitting = true;
  }

  /** @internal The machine's `stopAdmitting`. */
  stopAdmitting(): void {
    this.admitting = false;
  }

  /** @internal The machine's `blockSends`: publish that no frame may be sent any more. */
  blockSends(): void {
    this.gateOpen = false;
  }

  /** @internal The machine's `cancelHandlers`. */
  cancelHandlers(reason: CancelReason): void {
    this.host.cancelHandlers(reason);
  }

  /** @internal The machine's `closeTransport`. */
  closeTransport(reason: CancelReason | null): void {
    this.host.closeTransport(reason);
  }

  /**
   * @internal The machine's `startDrainTimer`. The timer is armed by `drainStarted`, the next entry
   * action of `draining`, and only if a handler still runs: an idle connection leaves `draining` on
   * the `handlers.idle` that `drainStarted` queues, before any deadline could pass (a one-exchange
   * HTTP session drains idle every time, and a timer armed and cleared per request is measurable).
   */
  startDrainTimer(): void {
    this.drainTimerWanted = true;
  }

  /** @internal The machine's `stopDrainTimer`. */
  stopDrainTimer(): void {
    this.drainTimerWanted = false;
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
  }

  /** @internal The machine's `drainStarted`. */
  drainStarted(reason: DrainReason): void {
    this.host.drainStarted?.(reason);
    if (!this.host.busy) {
      // The actor is mid-transition: queue the event, it is taken once `draining` is entered.
      this.actor.send({ type: 'handlers.idle' });
      return;
    }
    if (this.drainTimerWanted && this.drainTimer === undefined) {
      this.drainTimer = this.clock.setTimeout(() => {
        this.drainTimer = undefined;
        this.send({ type: 'timer.drainDeadline' });
      }, this.drainTimeoutMs);
    }
  }

  /** @internal The actor reached `done` (`error` undefined) or failed. */
  stopped(error: unknown): void {
    this.stopDrainTimer();
    this.admitting = false;
    this.gateOpen = false;
    drivers.delete(this.actor);
    this.host.actorStopped(error);
  }
}

/** The driver's one observer of its actor (a small object, not two closures per connection). */
class StopWatch implements Observer<{ status: string }> {
  constructor(private readonly driver: ConnectionDriver) {}

  next(snapshot: { status: string }): void {
    if (snapshot.status === 'done') this.driver.stopped(undefined);
  }

  error(error: unknown): void {
    this.driver.stopped(error);
  }
}
