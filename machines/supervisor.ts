import { setup } from 'xstate';

/**
 * Events of the supervisor machine.
 *
 * @example
 * ```ts
 * const event: SupervisorEvent = { type: 'supervisor.drain' };
 * ```
 */
export type SupervisorEvent =
  | { type: 'supervisor.drain' }
  | { type: 'supervisor.stop' }
  | { type: 'sessions.allClosed' }
  | { type: `xstate.error.actor.${string}`; error: unknown };

/**
 * The server's lifecycle: `running` → `draining` → `stopped` (final).
 *
 * - `running`: accepts sessions (tag `accepting`).
 * - `draining`: accepts none. Entered on `supervisor.drain` (every session drains: action
 *   `drainSessions`) or on `supervisor.stop` (every session closes now: action `closeSessions`; a
 *   stop while draining forces the close too). Leaves when every session has closed and every
 *   handler has settled or been abandoned (`sessions.allClosed`).
 * - `stopped`: final; no session is left.
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
 * s.getSnapshot().value; // 'stopped'
 * ```
 */
export const supervisorMachine = setup({
  types: {
    events: {} as SupervisorEvent,
    tags: {} as 'accepting',
  },
  actions: {
    /** Send `session.drain` to every session. */
    drainSessions: () => {},
    /** Send `session.close` (reason `shutdown`) to every session still open. */
    closeSessions: () => {},
    /** A session's actor failed; the runtime has already closed that session alone. */
    sessionFailed: () => {},
  },
}).createMachine({
  id: 'supervisor',
  initial: 'running',
  on: {
    'xstate.error.actor.*': { actions: 'sessionFailed' },
  },
  states: {
    running: {
      tags: ['accepting'],
      on: {
        'supervisor.drain': { target: 'draining', actions: 'drainSessions' },
        'supervisor.stop': { target: 'draining', actions: 'closeSessions' },
      },
    },
    draining: {
      on: {
        'sessions.allClosed': { target: 'stopped' },
        'supervisor.stop': { actions: 'closeSessions' },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});
