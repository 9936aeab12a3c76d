/** The prefix of the event xstate relays to a parent when a child actor reaches its final state. */
const DONE_CHILD_EVENT = 'xstate.done.actor.';
/** The prefix of the event xstate relays to a parent when a child actor fails. */
const ERROR_CHILD_EVENT = 'xstate.error.actor.';
/** The one type every child's failure reaches the machine under (it matches `xstate.error.actor.*`). */
const CHILD_ERROR = `${ERROR_CHILD_EVENT}child`;

/**
 * The same logic, answering the done events of its children without a machine step.
 *
 * xstate relays `xstate.done.actor.<child id>` to the parent whenever a child finishes. Neither the
 * connection machine (children: one handler actor per request) nor the supervisor machine (children:
 * one connection actor per session) has a transition for it, so a full macrostep (≈ 3 µs) would end
 * in the same snapshot — and xstate memoizes transition candidates per event type on every state
 * node, forever, so a new child id per event meant one cache entry per request or session ever seen.
 * For the same reason a child's failure (`xstate.error.actor.<child id>`) reaches the machine under
 * one fixed type, `xstate.error.actor.child` (the supervisor's `xstate.error.actor.*` transition
 * still takes it); otherwise every failed session left a cache entry behind.
 * Every other event goes through the machine. The result inherits from the machine
 * (`Object.create`), so tools that read the machine from the actor still find it.
 */
export function ignoreChildDoneEvents<L extends { transition(snapshot: any, event: { type: string }, scope: any): any }>(
  logic: L,
): L {
  const lean = Object.create(logic) as L;
  const transition = logic.transition.bind(logic);
  Object.defineProperty(lean, 'transition', {
    value: ((snapshot, event, scope) => {
      if (event.type.startsWith(DONE_CHILD_EVENT)) return snapshot;
      if (event.type.startsWith(ERROR_CHILD_EVENT)) return transition(snapshot, { ...event, type: CHILD_ERROR }, scope);
      return transition(snapshot, event, scope);
    }) as L['transition'],
  });
  return lean;
}
