import { createActor, toObserver, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { CANCEL_REASONS, type CancelReason } from '../machines/reasons.js';
import { supervisorMachine, type SupervisorPhase, type SupervisorTimer } from '../machines/supervisor.js';
import { SupervisorError } from './jsonrpc/errors.js';
import { systemClock, type Clock } from './runtime/clock.js';
import { DEFAULT_LIMITS, type Counters, type Limits, type SessionRuntime } from './runtime/context.js';
import { jsonRpcDialect, type Dialect } from './runtime/dialect.js';
import { InspectionSink } from './runtime/handler-actor.js';
import { Emitter, type SupervisorEvents, type SupervisorListener } from './runtime/events.js';
import { silentLogger, type Logger } from './runtime/logger.js';
import type { MethodDefinition, MethodTable, NotificationHandler } from './runtime/methods.js';
import { Session, type SessionCloseInfo } from './runtime/session.js';
import type { Transport } from './transports/types.js';
import type { ShutdownListener } from './shutdown.js';
import { PhaseLog, type PhaseTiming } from './runtime/phase-log.js';

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

/** Every transport ever attached, by any supervisor: a transport carries exactly one session. */
const attachedTransports = new WeakSet<Transport>();

function normalize(table: MethodTable | undefined): Map<string, MethodDefinition> {
  const map = new Map<string, MethodDefinition>();
  for (const [name, entry] of Object.entries(table ?? {})) {
    map.set(name, typeof entry === 'function' ? { handler: entry } : entry);
  }
  return map;
}

function resolveLimits(partial: Partial<Limits> | undefined): Readonly<Limits> {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(partial ?? {}) as [keyof Limits, number | undefined][]) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new SupervisorError('ERR_INVALID_OPTION', `limits.${key} must be a number >= 0 (got ${String(value)})`);
    }
    limits[key] = value;
  }
  if (limits.maxInFlight < 1) throw new SupervisorError('ERR_INVALID_OPTION', 'limits.maxInFlight must be >= 1');
  return Object.freeze(limits);
}

/**
 * Create a supervisor: it runs one connection actor per attached transport and one handler actor per
 * in-flight request, and keeps the invariants of the design (no write after close, every handler
 * settles once, …).
 *
 * @example
 * ```ts
 * import { createSupervisor, createMemoryTransportPair } from 'session-supervisor';
 *
 * const supervisor = createSupervisor({ methods: { echo: (params) => params } });
 * const { transport, peer } = createMemoryTransportPair();
 * supervisor.attach(transport);
 * peer.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { text: 'hi' } });
 * ```
 */
export function createSupervisor(options: SupervisorOptions = {}): Supervisor {
  const limits = resolveLimits(options.limits);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const dialect = options.dialect ?? jsonRpcDialect;
  const sessions = new Map<string, Session>();
  const failureTimes: number[] = [];
  let healthy = true;
  let nextSessionId = 1;
  const counters: Counters = {
    sessions: 0,
    requests: 0,
    completed: 0,
    failed: 0,
    refused: 0,
    cancelled: Object.fromEntries(CANCEL_REASONS.map((r) => [r, 0])) as Record<CancelReason, number>,
    abandoned: 0,
    lateAnswers: 0,
    blockedSends: 0,
    sessionFailures: 0,
  };
  const emitter = new Emitter((error) => logger.error({ err: error }, 'supervisor event listener threw'));

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let stopCheckQueued = false;
  const stopIfIdle = (): void => {
    stopCheckQueued = false;
    if (sessions.size > 0) return;
    const phase = actor.getSnapshot().value;
    if (phase === 'draining' || phase === 'cancelling' || phase === 'abandoning') actor.send({ type: 'sessions.allClosed' });
  };
  // A session often finishes inside its connection actor's final step; xstate relays that actor's
  // done event to the supervisor right after. Checking on a microtask keeps the supervisor alive to
  // receive it, so nothing is ever sent to a stopped actor.
  const checkStopped = (): void => {
    if (stopCheckQueued || sessions.size > 0) return;
    stopCheckQueued = true;
    queueMicrotask(stopIfIdle);
  };

  // The phased shutdown's I/O: listeners and timers. The machine decides when; these only carry out.
  let listeners: readonly ShutdownListener[] = [];
  let listenersAccepting = true;
  const timers = new Set<unknown>();
  const clearTimers = (): void => {
    for (const handle of timers) clock.clearTimeout(handle);
    timers.clear();
  };
  const stopListeners = (): void => {
    if (!listenersAccepting) return;
    listenersAccepting = false;
    for (const listener of listeners) {
      try {
        listener.stopAccepting();
      } catch (error) {
        logger.warn({ err: error }, 'a listener failed to stop accepting; it is still closed after the drain');
      }
    }
  };
  const closeListeners = (): void => {
    // On a microtask: the machine has then entered `closing`, so a listener reads that phase.
    const closing = Promise.resolve().then(() => Promise.allSettled(listeners.map(async (listener) => listener.close())));
    void closing.then((results) => {
      for (const result of results) if (result.status === 'rejected') logger.warn({ err: result.reason }, 'a listener failed to close');
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'listeners.closed' });
    });
  };

  const actor = createActor(
    supervisorMachine.provide({
      actions: {
        drainSessions: () => {
          for (const session of [...sessions.values()]) session.drain();
          checkStopped();
        },
        closeSessions: () => {
          for (const session of [...sessions.values()]) session.close('shutdown');
          checkStopped();
        },
        stopAccepting: stopListeners,
        closeListeners,
        scheduleTimer: (_, params: { timer: SupervisorTimer; ms: number | null }) => {
          if (params.ms === null) return;
          const handle = clock.setTimeout(() => {
            timers.delete(handle);
            if (actor.getSnapshot().status === 'active') actor.send({ type: `timer.${params.timer}` });
          }, params.ms);
          timers.add(handle);
        },
        clearTimers,
        sessionFailed: ({ event }) => logger.debug({ event: event.type }, 'session actor failed'),
      },
    }),
    options.inspect === undefined ? {} : { inspect: options.inspect },
  );
  const phaseLog = new PhaseLog(clock, 'running');
  const inspection = new InspectionSink(actor);
  if (options.inspect !== undefined) inspection.add(toObserver(options.inspect));
  actor.subscribe({
    next: (snapshot) => {
      const left = phaseLog.enter(snapshot.value);
      if (left === undefined) return;
      emitter.emit('supervisor.phase', { from: left.phase, to: snapshot.value, ms: left.ms });
      if (snapshot.value === 'stopped') {
        clearTimers();
        emitter.emit('supervisor.stopped', {});
        resolveStopped();
      }
    },
    error: (error) => logger.error({ err: error }, 'supervisor actor failed'),
  });
  actor.start();

  const updateHealth = (): number => {
    const since = clock.now() - limits.failureWindowMs;
    while (failureTimes.length > 0 && failureTimes[0]! < since) failureTimes.shift();
    const nowHealthy = failureTimes.length <= limits.maxSessionFailures;
    if (nowHealthy !== healthy) {
      healthy = nowHealthy;
      emitter.emit('health.changed', { healthy, failuresInWindow: failureTimes.length });
    }
    return failureTimes.length;
  };

  const runtime: SessionRuntime = {
    inspection,
    methods: normalize(options.methods),
    notifications: new Map(Object.entries(options.notifications ?? {})),
    dialect,
    limits,
    decodeOptions: { batches: dialect.batches === true },
    clock,
    logger,
    counters,
    emit: (type, event) => emitter.emit(type, event),
    listens: (type) => emitter.has(type),
    sessionFinished(session, info: SessionCloseInfo) {
      sessions.delete(session.id);
      logger.debug({ ...info }, 'session closed');
      emitter.emit('session.closed', info);
      checkStopped();
    },
    sessionFailed(session, error) {
      counters.sessionFailures += 1;
      failureTimes.push(clock.now());
      logger.error({ sessionId: session.id, err: error }, 'session failed; closing it alone');
      emitter.emit('session.failed', { sessionId: session.id, error });
      updateHealth();
    },
  };

  const supervisor: Supervisor = {
    actor,
    limits,
    stopped,
    get accepting() {
      return actor.getSnapshot().hasTag('accepting');
    },
    get ready() {
      return actor.getSnapshot().hasTag('ready');
    },
    get state() {
      return actor.getSnapshot().value;
    },
    attach(transport) {
      if (!actor.getSnapshot().hasTag('accepting')) {
        throw new SupervisorError('ERR_NOT_ACCEPTING', `supervisor is ${actor.getSnapshot().value}; no new sessions`);
      }
      if (attachedTransports.has(transport)) {
        throw new SupervisorError('ERR_TRANSPORT_IN_USE', `this ${transport.kind} transport is already attached; a transport carries one session`);
      }
      attachedTransports.add(transport);
      const id = `s${nextSessionId++}`;
      const session = new Session(runtime, id, transport, actor);
      sessions.set(id, session);
      counters.sessions += 1;
      emitter.emit('session.opened', { sessionId: id, transport: transport.kind });
      session.start();
      return session;
    },
    sessions: () => [...sessions.values()],
    drain() {
      const phase = actor.getSnapshot().value;
      if (phase === 'running' || phase === 'unready') actor.send({ type: 'supervisor.drain' });
      checkStopped();
      return stopped;
    },
    close() {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'supervisor.stop' });
      checkStopped();
      return stopped;
    },
    shutdown(shutdownOptions = {}) {
      if (actor.getSnapshot().value !== 'running') return stopped;
      const delayMs = shutdownOptions.delayMs ?? 0;
      const drainMs = shutdownOptions.drainMs ?? limits.drainTimeoutMs;
      for (const [name, value] of [['delayMs', delayMs], ['drainMs', drainMs]] as const) {
        if (typeof value !== 'number' || !(value >= 0)) {
          throw new SupervisorError('ERR_INVALID_OPTION', `shutdown ${name} must be a number >= 0 (got ${String(value)})`);
        }
      }
      listeners = [...(shutdownOptions.listeners ?? [])];
      actor.send({ type: 'supervisor.shutdown', delayMs, drainMs, graceMs: limits.cancelGraceMs });
      return stopped;
    },
    phases: () => phaseLog.timings(),
    stats() {
      let connected = 0;
      let draining = 0;
      let closing = 0;
      let inFlight = 0;
      let cancelling = 0;
      for (const session of sessions.values()) {
        if (session.state === 'connected') connected += 1;
        else if (session.state === 'draining') draining += 1;
        else closing += 1;
        inFlight += session.inFlight;
        cancelling += session.cancellingCount;
      }
      const failuresInWindow = updateHealth();
      return {
        state: actor.getSnapshot().value,
        healthy,
        sessions: { connected, draining, closing, total: counters.sessions },
        inFlight,
        cancelling,
        requests: counters.requests,
        completed: counters.completed,
        failed: counters.failed,
        refused: counters.refused,
        cancelled: { ...counters.cancelled },
        abandoned: counters.abandoned,
        lateAnswers: counters.lateAnswers,
        blockedSends: counters.blockedSends,
        sessionFailures: counters.sessionFailures,
        failuresInWindow,
      };
    },
    on: (type, listener) => emitter.on(type, listener),
    inspect(observer) {
      const full = toObserver(observer);
      const subscription = actor.system.inspect(full);
      const detach = inspection.add(full);
      return () => {
        subscription.unsubscribe();
        detach();
      };
    },
  };
  return supervisor;
}
