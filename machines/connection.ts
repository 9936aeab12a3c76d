import { assign, setup } from 'xstate';
import type { CancelReason, DrainReason } from './reasons.js';

/**
 * Events the connection machine understands. Timers are events (`timer.*`) sent by the runtime's
 * injectable clock, so the machine has no `after` and no `invoke` and model-based tests can drive it.
 *
 * @example
 * ```ts
 * const event: ConnectionEvent = { type: 'transport.closed' };
 * ```
 */
export type ConnectionEvent =
  | { type: 'transport.inputEnded' }
  | { type: 'transport.closed' }
  | { type: 'session.drain' }
  | { type: 'session.close'; reason: CancelReason }
  | { type: 'handlers.idle' }
  | { type: 'timer.drainDeadline' };

/**
 * Context of a connection actor: plain data only (no sockets), so it can be persisted and inspected.
 *
 * @example
 * ```ts
 * const ctx: ConnectionContext = { sessionId: 's1', drainReason: null, closeReason: null };
 * ```
 */
export interface ConnectionContext {
  sessionId: string;
  /** Why the session started draining, once it has. */
  drainReason: DrainReason | null;
  /** The reason handed to every live handler when the session closed (`null`: closed idle). */
  closeReason: CancelReason | null;
}

/**
 * Input of a connection actor.
 *
 * @example
 * ```ts
 * createActor(connectionMachine, { input: { sessionId: 's1' } });
 * ```
 */
export interface ConnectionInput {
  sessionId: string;
}

/**
 * The three phases of a connection as one word: `connected`, `draining` or `closed`.
 *
 * @example
 * ```ts
 * const phase: ConnectionPhase = connectionPhase(actor.getSnapshot());
 * ```
 */
export type ConnectionPhase = 'connected' | 'draining' | 'closed';

/**
 * The phase a connection snapshot is in (`{ open: 'connected' }` → `connected`, …); a stopped or
 * failed actor's snapshot reads `closed`.
 *
 * @example
 * ```ts
 * connectionPhase(actor.getSnapshot()); // 'draining'
 * ```
 */
export function connectionPhase(snapshot: { value?: unknown; status?: string }): ConnectionPhase {
  const value = snapshot.value;
  if (value === 'closed' || (snapshot.status !== undefined && snapshot.status !== 'active')) return 'closed';
  return (value as { open: 'connected' | 'draining' }).open;
}

/**
 * The session id of a connection actor (`''` while it initializes). Every connection actor has the id `connection` (so the
 * events it relays to its parent have one type); its identity is `sessionId`, in its context.
 *
 * @example
 * ```ts
 * connectionSessionId(session.actor); // 's1'
 * ```
 */
export function connectionSessionId(ref: { getSnapshot(): unknown }): string {
  let snapshot: { context?: { sessionId?: unknown } };
  try {
    snapshot = ref.getSnapshot() as typeof snapshot;
  } catch {
    // An actor's snapshot can't be read while it initializes (its `@xstate.actor` event).
    return '';
  }
  const id = snapshot.context?.sessionId;
  return typeof id === 'string' ? id : '';
}

/**
 * The lifecycle of one connection: `open` (`connected` → `draining`) → `closed` (final).
 *
 * - `open.connected`: requests are admitted (tag `admits`) and spawn handler actors; responses may
 *   be sent (tag `may-send`, on the whole of `open`).
 * - `open.draining`: no new requests; in-flight handlers finish and their responses are still
 *   written, because input ended is a half-close. Leaves on `handlers.idle`, or on the drain
 *   deadline (`timer.drainDeadline`: the rest are cancelled with `drain-timeout`).
 * - Anywhere in `open`, the output going away (`transport.closed`) or a close by the server
 *   (`session.close` with a reason, `session-failed` when the session's own machinery failed) ends
 *   the session: one transition for both phases.
 * - `closed` (final): its entry cancels every live handler once, with the reason of the close (while
 *   the output may still work, so the dialect may answer each request), then blocks every send
 *   (`blockSends`: no `may-send` tag from here on) and closes the transport.
 *
 * The runtime publishes admission and the send gate from the machine's own actions in the same
 * step (`admit` on entering `connected`, `stopAdmitting` on leaving it, `blockSends` in `closed`),
 * so they agree with the tags even while a transition's actions run.
 *
 * Actions are named and implemented by the runtime through `provide()`; the defaults do nothing, so
 * the machine is pure and loads in any tool.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine, connectionPhase } from 'session-supervisor/machines';
 *
 * const actor = createActor(connectionMachine, { input: { sessionId: 'demo' } }).start();
 * actor.send({ type: 'transport.inputEnded' });
 * connectionPhase(actor.getSnapshot()); // 'draining'
 * actor.send({ type: 'handlers.idle' });
 * connectionPhase(actor.getSnapshot()); // 'closed'
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    tags: {} as 'may-send' | 'admits',
  },
  actions: {
    /** Publish that new requests are admitted (entering `connected`). */
    admit: () => {},
    /** Publish that no new request is admitted (leaving `connected`). */
    stopAdmitting: () => {},
    /** Arm the drain deadline (the runtime sends `timer.drainDeadline` when it passes). */
    startDrainTimer: () => {},
    /** Disarm the drain deadline. */
    stopDrainTimer: () => {},
    /** Tell the runtime the session drains, so it can check whether it is already idle. */
    drainStarted: (_, _params: { reason: DrainReason }) => {},
    /** Publish that no frame may be sent any more (the send guard reads it). */
    blockSends: () => {},
    /** Send `handler.cancel` with the reason to every live handler, iterating over a snapshot. */
    cancelHandlers: (_, _params: { reason: CancelReason }) => {},
    /** Close the transport (both directions). */
    closeTransport: (_, _params: { reason: CancelReason | null }) => {},
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({ sessionId: input.sessionId, drainReason: null, closeReason: null }),
  initial: 'open',
  states: {
    open: {
      tags: ['may-send'],
      initial: 'connected',
      on: {
        'transport.closed': {
          target: 'closed',
          actions: assign({ closeReason: 'transport-closed' }),
        },
        'session.close': {
          target: 'closed',
          actions: assign({ closeReason: ({ event }) => event.reason }),
        },
      },
      states: {
        connected: {
          tags: ['admits'],
          entry: 'admit',
          exit: 'stopAdmitting',
          on: {
            'transport.inputEnded': {
              target: 'draining',
              actions: assign({ drainReason: 'input-ended' }),
            },
            'session.drain': {
              target: 'draining',
              actions: assign({ drainReason: 'shutdown' }),
            },
          },
        },
        draining: {
          entry: [
            'startDrainTimer',
            { type: 'drainStarted', params: ({ context }) => ({ reason: context.drainReason ?? 'shutdown' }) },
          ],
          exit: 'stopDrainTimer',
          on: {
            'handlers.idle': { target: '#connection.closed' },
            'timer.drainDeadline': {
              target: '#connection.closed',
              actions: assign({ closeReason: 'drain-timeout' }),
            },
          },
        },
      },
    },
    closed: {
      type: 'final',
      entry: [
        // Cancel first, while the output may still work, so the dialect may answer each request.
        {
          type: 'cancelHandlers',
          params: ({ context }) => ({ reason: context.closeReason ?? 'shutdown' }),
        },
        'blockSends',
        { type: 'closeTransport', params: ({ context }) => ({ reason: context.closeReason }) },
      ],
    },
  },
});
