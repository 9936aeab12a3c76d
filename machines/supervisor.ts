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
 * - `draining`: accepts none; every session drains (action `drainSessions`); leaves when every
 *   session has closed (`sessions.allClosed`).
 * - `stopped`: every session is closed (action `closeSessions`, for a forced stop).
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
        'supervisor.drain': { target: 'draining' },
        'supervisor.stop': { target: 'stopped' },
      },
    },
    draining: {
      entry: 'drainSessions',
      on: {
        'sessions.allClosed': { target: 'stopped' },
        'supervisor.stop': { target: 'stopped' },
      },
    },
    stopped: {
      type: 'final',
      entry: 'closeSessions',
    },
  },
});
