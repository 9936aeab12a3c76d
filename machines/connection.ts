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
 * The lifecycle of one connection: `connected` → `draining` → `closed` (final).
 *
 * - `connected`: requests spawn handler actors; responses may be sent (tag `may-send`).
 * - `draining`: no new requests; in-flight handlers finish and their responses are still written
 *   (tag `may-send`), because input ended is a half-close. Leaves on `handlers.idle`, on the drain
 *   deadline (`timer.drainDeadline`: handlers are cancelled with `drain-timeout`), or when the output
 *   goes away.
 * - `closed`: entering it blocks every send, cancels every live handler with the reason of the
 *   close and closes the transport. A server-side close (`session.close`) and the drain deadline
 *   cancel on the way out, while the output still works, so the dialect may answer each request. No tag: a guard reading `hasTag('may-send')` blocks every send.
 *
 * Actions are named and implemented by the runtime through `provide()`; the defaults do nothing, so
 * the machine is pure and loads in any tool.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionMachine } from 'session-supervisor/machines';
 *
 * const actor = createActor(connectionMachine, { input: { sessionId: 'demo' } }).start();
 * actor.send({ type: 'transport.inputEnded' });
 * actor.getSnapshot().value; // 'draining'
 * actor.send({ type: 'handlers.idle' });
 * actor.getSnapshot().value; // 'closed'
 * ```
 */
export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    tags: {} as 'may-send',
  },
  actions: {
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
  initial: 'connected',
  states: {
    connected: {
      tags: ['may-send'],
      on: {
        'transport.inputEnded': {
          target: 'draining',
          actions: assign({ drainReason: 'input-ended' }),
        },
        'session.drain': {
          target: 'draining',
          actions: assign({ drainReason: 'shutdown' }),
        },
        'transport.closed': {
          target: 'closed',
          actions: assign({ closeReason: 'transport-closed' }),
        },
        'session.close': {
          target: 'closed',
          // Cancel while the output still works, so the dialect may answer each request.
          actions: [
            assign({ closeReason: ({ event }) => event.reason }),
            { type: 'cancelHandlers', params: ({ event }) => ({ reason: event.reason }) },
          ],
        },
      },
    },
    draining: {
      tags: ['may-send'],
      entry: [
        'startDrainTimer',
        { type: 'drainStarted', params: ({ context }) => ({ reason: context.drainReason ?? 'shutdown' }) },
      ],
      exit: 'stopDrainTimer',
      on: {
        'handlers.idle': { target: 'closed' },
        'timer.drainDeadline': {
          target: 'closed',
          // Cancel while the output still works, so the dialect may answer each request.
          actions: [
            assign({ closeReason: 'drain-timeout' }),
            { type: 'cancelHandlers', params: { reason: 'drain-timeout' } },
          ],
        },
        'transport.closed': {
          target: 'closed',
          actions: assign({ closeReason: 'transport-closed' }),
        },
        'session.close': {
          target: 'closed',
          // Cancel while the output still works, so the dialect may answer each request.
          actions: [
            assign({ closeReason: ({ event }) => event.reason }),
            { type: 'cancelHandlers', params: ({ event }) => ({ reason: event.reason }) },
          ],
        },
      },
    },
    closed: {
      type: 'final',
      entry: [
        'blockSends',
        {
          type: 'cancelHandlers',
          params: ({ context }) => ({ reason: context.closeReason ?? 'shutdown' }),
        },
        { type: 'closeTransport', params: ({ context }) => ({ reason: context.closeReason }) },
      ],
    },
  },
});
