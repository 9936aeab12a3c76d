import type { Actor, InspectionEvent, Observer } from 'xstate';
import type { CancelReason } from '../machines/reasons.js';
import type { SupervisorPhase, supervisorMachine } from '../machines/supervisor.js';
import type { Clock } from './runtime/clock.js';
import type { Limits } from './runtime/context.js';
import type { Dialect } from './runtime/dialect.js';
import type { SupervisorEvents, SupervisorListener } from './runtime/events.js';
import type { Logger } from './runtime/logger.js';
import type { MethodTable, NotificationHandler } from './runtime/methods.js';
import type { PhaseTiming } from './runtime/phase-log.js';
import type { Session } from './runtime/session.js';
import type { ShutdownListener } from './shutdown.js';
import type { Transport } from './transports/types.js';

/**
 * Options of {@link createSupervisor}.
 *
 * @example
 * ```ts
 * createSupervisor({ methods: { ping: () => ({}) }, limits: { drainTimeoutMs: 5000 } });
 * ```
 */
export interface SupervisorOptions {
  /** Request methods by name. */
  methods?: MethodTable;
  /** Notification methods by name (run, never answered; errors are logged). */
  notifications?: Record<string, NotificationHandler>;
  /** Protocol rules (cancel notification, answers after a cancel, admission). Default: {@link jsonRpcDialect}. */
  dialect?: Dialect;
  limits?: Partial<Limits>;
  logger?: Logger;
  /** An xstate inspection observer: it sees the supervisor, every connection and every handler actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  clock?: Clock;
}

/**
 * A stable snapshot of a supervisor's state and lifetime counters.
 *
 * @example
 * ```ts
 * const s = supervisor.stats();
 * console.log(s.inFlight, s.cancelled.client, s.blockedSends);
 * ```
 */
export interface SupervisorStats {
  state: SupervisorPhase;
  healthy: boolean;
  /** Open sessions by state, and sessions ever attached. */
  sessions: { connected: number; draining: number; closing: number; total: number };
  /** Handlers running now (not cancelled). */
  inFlight: number;
  /** Handlers cancelled but not yet settled or abandoned. */
  cancelling: number;
  requests: number;
  completed: number;
  failed: number;
  /** Requests refused before a handler ran (draining, overloaded, unknown method, bad params, …). */
  refused: number;
  cancelled: Record<CancelReason, number>;
  abandoned: number;
  /** Answers from handlers that had already been cancelled (dropped). */
  lateAnswers: number;
  blockedSends: number;
  sessionFailures: number;
  failuresInWindow: number;
}

/**
 * A running supervisor. Attach transports to it; drain or close it; read its stats.
 *
 * @example
 * ```ts
 * const supervisor = createSupervisor({ methods });
 * const session = supervisor.attach(transport);
 * await supervisor.drain();
 * ```
 */
export interface Supervisor {
  /** The supervisor actor (root of the actor system every session and handler belongs to). */
  readonly actor: Actor<typeof supervisorMachine>;
  /** `true` while new sessions are accepted. */
  readonly accepting: boolean;
  /** `true` while running and not shutting down: what a readiness probe (`/readyz`) reports. */
  readonly ready: boolean;
  readonly state: SupervisorPhase;
  readonly limits: Readonly<Limits>;
  /**
   * Run a session over this transport. Throws `ERR_NOT_ACCEPTING` once draining or stopped, and
   * `ERR_TRANSPORT_IN_USE` for a transport already attached (here or to another supervisor).
   */
  attach(transport: Transport): Session;
  /** Open sessions. */
  sessions(): Session[];
  /** Stop accepting; drain every session; resolves once every session has closed. */
  drain(): Promise<void>;
  /** Close every session now (handlers cancelled with `shutdown`); resolves once all settled. */
  close(): Promise<void>;
  /**
   * A coordinated shutdown in phases: unready at once (still serving) for `delayMs`, then the
   * listeners stop accepting and every session drains for at most `drainMs` (default
   * `limits.drainTimeoutMs`), then the rest are cancelled with `shutdown`, handlers that ignore it
   * are abandoned after `limits.cancelGraceMs`, and the listeners are closed. Resolves once stopped.
   * A later `close()` forces the cancel phase at once.
   *
   * @example
   * ```ts
   * await supervisor.shutdown({ delayMs: 5000, listeners: [listener] });
   * supervisor.phases(); // [{ phase: 'running', ms: … }, { phase: 'unready', ms: 5000 }, …]
   * ```
   */
  shutdown(options?: SupervisorShutdownOptions): Promise<void>;
  /** Each phase entered so far, in order, with the time spent in it (the current one: so far). */
  phases(): PhaseTiming[];
  /** Resolves once stopped with no session left. */
  readonly stopped: Promise<void>;
  stats(): SupervisorStats;
  on<K extends keyof SupervisorEvents>(type: K, listener: SupervisorListener<K>): () => void;
  /**
   * Attach an xstate inspection observer now (like the `inspect` option, from the next event on):
   * it sees the supervisor, every connection and every handler actor created from then on.
   * Returns the function that detaches it.
   *
   * @example
   * ```ts
   * const detach = supervisor.inspect((event) => console.log(event.type));
   * detach();
   * ```
   */
  inspect(observer: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): () => void;
}

/**
 * Options of {@link Supervisor.shutdown}.
 *
 * @example
 * ```ts
 * const options: SupervisorShutdownOptions = { delayMs: 5000, listeners: [listener] };
 * ```
 */
export interface SupervisorShutdownOptions {
  /** Keep serving while unready for this long (ms). Default 0. */
  delayMs?: number;
  /** How long the drain may take before the rest is cancelled (ms). Default `limits.drainTimeoutMs`. */
  drainMs?: number;
  /** Stop accepting when the drain starts; close once every session has closed. */
  listeners?: readonly ShutdownListener[];
}

