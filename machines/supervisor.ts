import { assign, setup } from 'xstate';

/**
 * The timers of a phased shutdown. The runtime's clock sends each as `timer.<name>` when it fires.
 *
 * @example
 * ```ts
 * const timer: SupervisorTimer = 'drainDeadline';
 * ```
 */
export type SupervisorTimer = 'shutdownDelay' | 'drainDeadline' | 'cancelGrace';

/**
 * The budget of a phased shutdown, in ms (`null`: that phase has no deadline of its own).
 *
 * @example
 * ```ts
 * const budget: ShutdownBudget = { delayMs: 5000, drainMs: 10_000, graceMs: 2000 };
 * ```
 */
export interface ShutdownBudget {
  /** How long to keep serving while unready (so load balancers stop sending). */
  delayMs: number | null;
  /** How long in-flight work may finish before the rest is cancelled with `shutdown`. */
  drainMs: number | null;
  /** How long cancelled handlers may take to settle before they are abandoned. */
  graceMs: number | null;
}

/**
 * Events of the supervisor machine.
 *
 * @example
 * ```ts
 * const event: SupervisorEvent = { type: 'supervisor.shutdown', delayMs: 5000, drainMs: 10_000, graceMs: 2000 };
 * ```
 */
export type SupervisorEvent =
  | { type: 'supervisor.drain' }
  | ({ type: 'supervisor.shutdown' } & ShutdownBudget)
  | { type: 'supervisor.stop' }
  | { type: 'sessions.allClosed' }
  | { type: 'listeners.closed' }
  | { type: `timer.${SupervisorTimer}` }
  | { type: `xstate.error.actor.${string}`; error: unknown };

/**
 * The supervisor's phases, in order (a shutdown may skip some).
 *
 * @example
 * ```ts
 * SUPERVISOR_PHASES[0]; // 'running'
 * ```
 */
export const SUPERVISOR_PHASES = ['running', 'unready', 'draining', 'cancelling', 'abandoning', 'closing', 'stopped'] as const;

/**
 * One of {@link SUPERVISOR_PHASES}.
 *
 * @example
 * ```ts
 * const phase: SupervisorPhase = 'draining';
 * ```
 */
export type SupervisorPhase = (typeof SUPERVISOR_PHASES)[number];

const NO_BUDGET: ShutdownBudget = { delayMs: null, drainMs: null, graceMs: null };

/**
 * The server's lifecycle, a coordinated shutdown in phases (Akka's coordinated shutdown, sized for
 * Kubernetes' preStop → SIGTERM → SIGKILL):
 *
 * - `running` (tags `accepting`, `ready`): serves.
 * - `unready` (tag `accepting`): `supervisor.shutdown` entered it; readiness reports 503 at once, but
 *   the server keeps serving until `timer.shutdownDelay` (the load balancer's time to notice).
 * - `draining`: accepts nothing new; every session drains (`drainSessions`). With a drain budget,
 *   `timer.drainDeadline` moves on to `cancelling`. A plain `supervisor.drain` has no deadline here:
 *   each session bounds its own drain (`drain-timeout`).
 * - `cancelling`: every session still open is closed, its handlers cancelled with `shutdown`
 *   (`closeSessions`). With a grace budget, `timer.cancelGrace` moves on to `abandoning`.
 * - `abandoning`: handlers that ignore their cancellation are abandoned by their sessions.
 * - `closing`: every session has closed; the listeners are closed (`closeListeners`) until
 *   `listeners.closed`.
 * - `stopped`: final.
 *
 * `supervisor.stop` (a second signal) forces the `cancelling` phase from any earlier one. Timers are
 * events from the runtime's clock (`scheduleTimer` / `clearTimers`), never `after`.
 *
 * Sessions are not `spawnChild`ren (that copies the children map on every spawn and stop): the
 * runtime keeps them in a Map and creates them with this actor as their parent, so one `inspect`
 * observer sees the whole tree. A failed session reaches this machine as `xstate.error.actor.*`,
 * which is handled (counted by the runtime) so that it never fails the supervisor.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { supervisorMachine } from 'session-supervisor/machines';
 *
 * const s = createActor(supervisorMachine).start();
 * s.send({ type: 'supervisor.drain' });
 * s.send({ type: 'sessions.allClosed' });
 * s.send({ type: 'listeners.closed' });
 * s.getSnapshot().value; // 'stopped'
 * ```
 */
export const supervisorMachine = setup({
  types: {
    context: {} as ShutdownBudget,
    events: {} as SupervisorEvent,
    tags: {} as 'accepting' | 'ready',
  },
  actions: {
    /** Send `session.drain` to every session. */
    drainSessions: () => {},
    /** Send `session.close` (reason `shutdown`) to every session still open. */
    closeSessions: () => {},
    /** Tell the listeners to refuse new work (503) from now on. */
    stopAccepting: () => {},
    /** Close the listeners; the runtime sends `listeners.closed` once they are. */
    closeListeners: () => {},
    /** Start a clock timer that sends `timer.<timer>` after `ms` (nothing when `ms` is `null`). */
    scheduleTimer: (_, _params: { timer: SupervisorTimer; ms: number | null }) => {},
    /** Clear every timer this machine started. */
    clearTimers: () => {},
    /** A session's actor failed; the runtime has already closed that session alone. */
    sessionFailed: () => {},
  },
}).createMachine({
  id: 'supervisor',
  initial: 'running',
  context: NO_BUDGET,
  on: {
    'xstate.error.actor.*': { actions: 'sessionFailed' },
  },
  states: {
    running: {
      tags: ['accepting', 'ready'],
      on: {
        'supervisor.shutdown': {
          target: 'unready',
          actions: assign(({ event }) => ({ delayMs: event.delayMs, drainMs: event.drainMs, graceMs: event.graceMs })),
        },
        'supervisor.drain': { target: 'draining' },
        'supervisor.stop': { target: 'cancelling' },
      },
    },
    unready: {
      tags: ['accepting'],
      entry: { type: 'scheduleTimer', params: ({ context }) => ({ timer: 'shutdownDelay', ms: context.delayMs }) },
      exit: 'clearTimers',
      on: {
        'timer.shutdownDelay': { target: 'draining' },
        'supervisor.drain': { target: 'draining' },
        'supervisor.stop': { target: 'cancelling' },
      },
    },
    draining: {
      // The deadline is scheduled before the sessions drain, so it fires before their own drain timers.
      entry: ['stopAccepting', { type: 'scheduleTimer', params: ({ context }) => ({ timer: 'drainDeadline', ms: context.drainMs }) }, 'drainSessions'],
      exit: 'clearTimers',
      on: {
        'sessions.allClosed': { target: 'closing' },
        'timer.drainDeadline': { target: 'cancelling' },
        'supervisor.stop': { target: 'cancelling' },
      },
    },
    cancelling: {
      entry: ['stopAccepting', { type: 'scheduleTimer', params: ({ context }) => ({ timer: 'cancelGrace', ms: context.graceMs }) }, 'closeSessions'],
      exit: 'clearTimers',
      on: {
        'sessions.allClosed': { target: 'closing' },
        'timer.cancelGrace': { target: 'abandoning' },
        'supervisor.stop': { actions: 'closeSessions' },
      },
    },
    abandoning: {
      on: {
        'sessions.allClosed': { target: 'closing' },
        'supervisor.stop': { actions: 'closeSessions' },
      },
    },
    closing: {
      entry: 'closeListeners',
      on: {
        'listeners.closed': { target: 'stopped' },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});
