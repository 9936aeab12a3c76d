import type { ActorLogic, ActorScope, ActorSystem, AnyActorRef } from 'xstate';
import type { ConnectionContext, ConnectionEvent, ConnectionInput } from './connection.js';
import type { CancelReason, DrainReason } from './reasons.js';

/**
 * Snapshot of a lean connection actor: the same `status`, `value`, `context` and `output` as
 * {@link connectionMachine}'s (`{ open: 'connected' }`, `{ open: 'draining' }`, `'closed'`).
 *
 * @example
 * ```ts
 * const s: ConnectionSnapshot = initialConnectionSnapshot({ sessionId: 's1' });
 * s.value; // { open: 'connected' }
 * ```
 */
export type ConnectionSnapshot = (
  | {
      status: 'active';
      value: { open: 'connected' } | { open: 'draining' };
      context: ConnectionContext;
      output: undefined;
      error: undefined;
    }
  | {
      status: 'done';
      value: 'closed';
      context: ConnectionContext;
      output: undefined;
      error: undefined;
    }
  | {
      status: 'error';
      value: { open: 'connected' } | { open: 'draining' } | 'closed';
      context: ConnectionContext;
      output: undefined;
      error: unknown;
    }
) & {
  /** The machine's tags: `admits` in `open.connected`, `may-send` in the whole of `open`. */
  hasTag(tag: 'may-send' | 'admits'): boolean;
};

/** The tags of a connection snapshot (one shared function, no closure per snapshot). */
function hasTag(this: { value: unknown }, tag: 'may-send' | 'admits'): boolean {
  if (this.value === CONNECTED) return true;
  return this.value === DRAINING && tag === 'may-send';
}

/**
 * The named actions of {@link connectionMachine}, as the lean logic runs them: the same names, the
 * same parameters, in the same order as xstate runs the machine's (exit actions, then the
 * transition's, then entry actions). The runtime implements them (the connection driver).
 *
 * @example
 * ```ts
 * const log: string[] = [];
 * const effects: ConnectionEffects = {
 *   admit: () => log.push('admit'), stopAdmitting: () => log.push('stopAdmitting'),
 *   startDrainTimer: () => {}, stopDrainTimer: () => {}, drainStarted: () => {},
 *   blockSends: () => {}, cancelHandlers: () => {}, closeTransport: () => {},
 * };
 * ```
 */
export interface ConnectionEffects {
  admit(): void;
  stopAdmitting(): void;
  startDrainTimer(): void;
  stopDrainTimer(): void;
  drainStarted(reason: DrainReason): void;
  blockSends(): void;
  cancelHandlers(reason: CancelReason): void;
  closeTransport(reason: CancelReason | null): void;
}

const CONNECTED = Object.freeze({ open: 'connected' as const });
const DRAINING = Object.freeze({ open: 'draining' as const });

/**
 * The snapshot a connection starts in (`open.connected`); its entry action `admit` runs when the
 * actor starts ({@link startConnection}).
 *
 * @example
 * ```ts
 * initialConnectionSnapshot({ sessionId: 's1' }).context; // { sessionId: 's1', drainReason: null, closeReason: null }
 * ```
 */
export function initialConnectionSnapshot(input: ConnectionInput): ConnectionSnapshot {
  return {
    status: 'active',
    value: CONNECTED,
    context: { sessionId: input.sessionId, drainReason: null, closeReason: null },
    output: undefined,
    error: undefined,
    hasTag,
  };
}

/**
 * Run the entry actions of the initial state (`admit`), as xstate does when the actor starts.
 *
 * @example
 * ```ts
 * startConnection(snapshot, effects); // effects.admit()
 * ```
 */
export function startConnection(snapshot: ConnectionSnapshot, effects: ConnectionEffects): void {
  if (snapshot.status === 'active' && snapshot.value === CONNECTED) effects.admit();
}

function toClosed(s: ConnectionSnapshot, closeReason: CancelReason | null, effects: ConnectionEffects): ConnectionSnapshot {
  // Exit the open sub-state (connected: stopAdmitting; draining: stopDrainTimer), then enter `closed`.
  if (s.value === CONNECTED) effects.stopAdmitting();
  else effects.stopDrainTimer();
  const context: ConnectionContext = { sessionId: s.context.sessionId, drainReason: s.context.drainReason, closeReason };
  effects.cancelHandlers(closeReason ?? 'shutdown');
  effects.blockSends();
  effects.closeTransport(closeReason);
  return { status: 'done', value: 'closed', context, output: undefined, error: undefined, hasTag };
}

function toDraining(s: ConnectionSnapshot, drainReason: DrainReason, effects: ConnectionEffects): ConnectionSnapshot {
  effects.stopAdmitting();
  const context: ConnectionContext = { sessionId: s.context.sessionId, drainReason, closeReason: s.context.closeReason };
  effects.startDrainTimer();
  effects.drainStarted(drainReason);
  return { status: 'active', value: DRAINING, context, output: undefined, error: undefined, hasTag };
}

/**
 * One step of the connection lifecycle: the snapshot after `event`, running the machine's actions
 * on `effects` on the way. The same decisions as {@link connectionMachine} (checked event for event,
 * actions included, by a conformance test); an event the state does not take returns the snapshot
 * unchanged and runs nothing.
 *
 * @example
 * ```ts
 * let s = initialConnectionSnapshot({ sessionId: 's1' });
 * s = stepConnection(s, { type: 'transport.inputEnded' }, effects); // { open: 'draining' }
 * s = stepConnection(s, { type: 'handlers.idle' }, effects); // 'closed', status 'done'
 * ```
 */
export function stepConnection(s: ConnectionSnapshot, event: ConnectionEvent, effects: ConnectionEffects): ConnectionSnapshot {
  if (s.status !== 'active') return s;
  switch (event.type) {
    case 'transport.closed':
      return toClosed(s, 'transport-closed', effects);
    case 'session.close':
      return toClosed(s, event.reason, effects);
    case 'transport.inputEnded':
      return s.value === CONNECTED ? toDraining(s, 'input-ended', effects) : s;
    case 'session.drain':
      return s.value === CONNECTED ? toDraining(s, 'shutdown', effects) : s;
    case 'handlers.idle':
      return s.value === DRAINING ? toClosed(s, s.context.closeReason, effects) : s;
    case 'timer.drainDeadline':
      return s.value === DRAINING ? toClosed(s, 'drain-timeout', effects) : s;
    default:
      return s;
  }
}

type AnyActorSystem = ActorSystem<any>;
type Scope = ActorScope<ConnectionSnapshot, ConnectionEvent, AnyActorSystem>;

/**
 * Actions that do nothing (the machine's defaults): what an unbound lean connection actor runs.
 *
 * @example
 * ```ts
 * const effects: ConnectionEffects = { ...NO_CONNECTION_EFFECTS, cancelHandlers: (reason) => log.push(reason) };
 * ```
 */
export const NO_CONNECTION_EFFECTS: ConnectionEffects = Object.freeze({
  admit: () => {},
  stopAdmitting: () => {},
  startDrainTimer: () => {},
  stopDrainTimer: () => {},
  drainStarted: () => {},
  blockSends: () => {},
  cancelHandlers: () => {},
  closeTransport: () => {},
});

const effectsByActor = new WeakMap<AnyActorRef, ConnectionEffects>();

/**
 * Give the actions of a connection actor running {@link connectionLogicLean} their implementations
 * (unbound actors run none, like the machine's defaults).
 *
 * @example
 * ```ts
 * const actor = createActor(connectionLogicLean, { input: { sessionId: 's1' } });
 * bindConnectionEffects(actor, effects);
 * actor.start();
 * ```
 */
export function bindConnectionEffects(actor: AnyActorRef, effects: ConnectionEffects): void {
  effectsByActor.set(actor, effects);
}

const effectsOf = (scope: Scope): ConnectionEffects => effectsByActor.get(scope.self) ?? NO_CONNECTION_EFFECTS;

/**
 * The connection lifecycle as a lean `ActorLogic`: {@link stepConnection} with the actions of the
 * actor found by {@link bindConnectionEffects}. No closures per connection, no xstate interpreter:
 * the runtime runs short-lived connections (one Streamable HTTP exchange each) on it.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { connectionLogicLean } from 'session-supervisor/machines';
 *
 * const c = createActor(connectionLogicLean, { input: { sessionId: 's1' } }).start();
 * c.send({ type: 'transport.closed' });
 * c.getSnapshot().value; // 'closed'
 * ```
 */
export const connectionLogicLean: ActorLogic<ConnectionSnapshot, ConnectionEvent, ConnectionInput, AnyActorSystem> = {
  config: 'session-supervisor.connection',
  transition: (snapshot, event, scope) => stepConnection(snapshot, event, effectsOf(scope)),
  getInitialSnapshot: (_scope, input) => initialConnectionSnapshot(input),
  start: (snapshot, scope) => startConnection(snapshot, effectsOf(scope)),
  getPersistedSnapshot: (snapshot) => snapshot,
};
