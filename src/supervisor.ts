import { createActor, toObserver } from 'xstate';
import { CANCEL_REASONS, type CancelReason } from '../machines/reasons.js';
import { supervisorMachine, type SupervisorTimer } from '../machines/supervisor.js';
import { SupervisorError } from './jsonrpc/errors.js';
import { systemClock } from './runtime/clock.js';
import { normalize, resolveLimits, type Counters, type SessionRuntime } from './runtime/context.js';
import { jsonRpcDialect } from './runtime/dialect.js';
import { InspectionSink } from './runtime/handler-actor.js';
import { Emitter } from './runtime/events.js';
import { silentLogger } from './runtime/logger.js';
import { Session, type SessionCloseInfo } from './runtime/session.js';
import type { Transport } from './transports/types.js';
import { PhaseLog } from './runtime/phase-log.js';
import { GraceQueue } from './runtime/grace-queue.js';
import { LinkedList } from './runtime/linked-list.js';
import type { Supervisor, SupervisorOptions } from './supervisor-types.js';
import type { ShutdownListener } from './shutdown.js';

export type { Supervisor, SupervisorOptions, SupervisorShutdownOptions, SupervisorStats } from './supervisor-types.js';

/**
 * Every transport ever attached, by any supervisor: a transport carries exactly one session. The
 * mark is a symbol-keyed property of the transport (a `WeakSet` entry per attach — one per modern
 * HTTP exchange — would make every young-generation GC walk and keep them); a transport object
 * that cannot take a property is remembered in the `WeakSet` instead.
 */
const ATTACHED = Symbol('session-supervisor.attached');
const sealedAttached = new WeakSet<Transport>();

/** Mark `transport` attached; `false` if it already was. */
function claimTransport(transport: Transport): boolean {
  const marked = transport as Transport & { [ATTACHED]?: true };
  if (marked[ATTACHED] === true || sealedAttached.has(transport)) return false;
  if (Object.isExtensible(transport)) marked[ATTACHED] = true;
  else sealedAttached.add(transport);
  return true;
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
  // Open sessions, oldest first: a list the sessions link themselves into (no map upkeep per exchange).
  const sessions = new LinkedList<Session>();
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
  // Set by the machine's own `drainSessions` / `closeSessions` (the entries of `draining` and
  // `cancelling`, the only ways to the phases that wait for `sessions.allClosed`): until then a
  // session finishing needs no stop check, and a one-exchange session queues no microtask.
  let shuttingDown = false;
  // The machine's `accepting` tag as its own `stopAccepting` action publishes it (the entry of
  // `draining` and `cancelling`, the only ways out of the two states that carry the tag): read on
  // every request, so not worked out from the snapshot each time.
  let acceptingNow = true;
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
    if (!shuttingDown || stopCheckQueued || sessions.size > 0) return;
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
          shuttingDown = true;
          for (const session of sessions.toArray()) session.drain();
          checkStopped();
        },
        closeSessions: () => {
          shuttingDown = true;
          for (const session of sessions.toArray()) session.close('shutdown');
          checkStopped();
        },
        stopAccepting: () => {
          acceptingNow = false;
          stopListeners();
        },
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
    graceQueue: new GraceQueue(clock),
    logger,
    counters,
    emit: (type, event) => emitter.emit(type, event),
    listens: (type) => emitter.has(type),
    sessionFinished(session, info: SessionCloseInfo) {
      sessions.delete(session);
      logger.debug(info, 'session closed');
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
      return acceptingNow && actor.getSnapshot().status === 'active';
    },
    get ready() {
      return actor.getSnapshot().hasTag('ready');
    },
    get state() {
      return actor.getSnapshot().value;
    },
    attach(transport) {
      if (!supervisor.accepting) {
        throw new SupervisorError('ERR_NOT_ACCEPTING', `supervisor is ${actor.getSnapshot().value}; no new sessions`);
      }
      if (!claimTransport(transport)) {
        throw new SupervisorError('ERR_TRANSPORT_IN_USE', `this ${transport.kind} transport is already attached; a transport carries one session`);
      }
      const id = `s${nextSessionId++}`;
      const session = new Session(runtime, id, transport, actor);
      sessions.add(session);
      counters.sessions += 1;
      if (emitter.has('session.opened')) emitter.emit('session.opened', { sessionId: id, transport: transport.kind });
      session.start();
      return session;
    },
    sessions: () => sessions.toArray(),
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
      for (const session of sessions) {
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
