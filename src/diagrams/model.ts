import type { AnyStateMachine } from 'xstate';

/**
 * One state of a machine as the diagrams draw it.
 *
 * @example
 * ```ts
 * const model = describeMachine(connectionMachine);
 * model.root.children.map((s) => s.key); // ['connected', 'draining', 'closed']
 * ```
 */
export interface DiagramState {
  /** Unique, diagram-safe id built from the state's path (`draining`, `b__x`; the machine id for the root). */
  id: string;
  /** The state's key (`draining`); the root's key is the machine id. */
  key: string;
  /** Path from the root, dot-joined (`draining`; `''` for the root). */
  path: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  tags: string[];
  entry: string[];
  exit: string[];
  /** Id of the initial child (compound states only). */
  initial: string | undefined;
  children: DiagramState[];
}

/**
 * One transition: an edge from a state to a target (itself when the transition has no target).
 *
 * @example
 * ```ts
 * const edge = describeMachine(connectionMachine).transitions[0];
 * edge.event; // 'transport.inputEnded'
 * ```
 */
export interface DiagramTransition {
  source: string;
  target: string;
  /** The event type; `always` for eventless transitions, `after <delay>` for delayed ones. */
  event: string;
  kind: 'event' | 'always' | 'after';
  guard: string | undefined;
  actions: string[];
  /** `true` when the transition has no target (actions only, the state is kept). */
  targetless: boolean;
  /** The label drawn on the edge: `event [guard] / actions`. */
  label: string;
}

/**
 * A machine reduced to what its diagrams show.
 *
 * @example
 * ```ts
 * const { id, root, transitions } = describeMachine(handlerMachine);
 * ```
 */
export interface DiagramModel {
  id: string;
  root: DiagramState;
  transitions: DiagramTransition[];
}

interface NodeLike {
  id: string;
  key: string;
  path: string[];
  type: DiagramState['type'];
  tags: string[];
  entry: unknown[];
  exit: unknown[];
  states: Record<string, NodeLike>;
  initial?: { target?: readonly NodeLike[] } | undefined;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[] | undefined;
  after: TransitionLike[];
  machine: { id: string };
}

interface TransitionLike {
  eventType: string;
  target?: readonly NodeLike[] | undefined;
  guard?: unknown;
  actions: readonly unknown[];
  delay?: unknown;
}

/** Diagram-safe id of a state node: the path joined with `__` (the machine id for the root). */
function safeId(node: NodeLike): string {
  const parts = node.path.length === 0 ? [node.machine.id] : node.path;
  return parts.map((p) => p.replace(/[^A-Za-z0-9_]/g, '_')).join('__');
}

/**
 * The name of an action as a diagram shows it: named actions by name, `assign(key, …)` for
 * object assignments, `assign` for function assignments, otherwise the function's name.
 *
 * @example
 * ```ts
 * actionName('blockSends'); // 'blockSends'
 * ```
 */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const fn = action as { type?: unknown; assignment?: unknown; name?: string };
    if (fn.type === 'xstate.assign') {
      const assignment = fn.assignment;
      if (assignment !== null && typeof assignment === 'object') return `assign(${Object.keys(assignment).join(', ')})`;
      return 'assign';
    }
    if (typeof fn.type === 'string' && fn.type.startsWith('xstate.')) return fn.type.slice('xstate.'.length);
    return fn.name !== undefined && fn.name !== '' ? fn.name : 'inline';
  }
  if (action !== null && typeof action === 'object' && typeof (action as { type?: unknown }).type === 'string') {
    return (action as { type: string }).type;
  }
  return 'inline';
}

/**
 * The name of a guard: named guards by name, `not(x)` / `and(x, y)` / `or(x, y)` for the combinators.
 *
 * @example
 * ```ts
 * guardName({ type: 'isIdle' }); // 'isIdle'
 * ```
 */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const fn = guard as { name?: string; guards?: unknown[] };
    const name = fn.name !== undefined && fn.name !== '' ? fn.name : 'inline';
    if (Array.isArray(fn.guards)) return `${name}(${fn.guards.map(guardName).join(', ')})`;
    return name;
  }
  if (guard !== null && typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'inline';
}

function describeEvent(transition: TransitionLike): Pick<DiagramTransition, 'event' | 'kind'> {
  if (transition.eventType === '') return { event: 'always', kind: 'always' };
  if (transition.delay !== undefined || transition.eventType.startsWith('xstate.after.')) {
    const delay = transition.delay;
    const text = typeof delay === 'number' ? `${delay}ms` : typeof delay === 'string' ? delay : transition.eventType.split('.')[2] ?? '?';
    return { event: `after ${text}${/^\d+$/.test(text) ? 'ms' : ''}`, kind: 'after' };
  }
  return { event: transition.eventType, kind: 'event' };
}

/** The `raise`/`cancel` actions xstate adds to a state's entry/exit for its `after` transitions. */
function isDelayPlumbing(action: unknown): boolean {
  if (typeof action !== 'function') return false;
  const fn = action as { type?: unknown; id?: unknown; sendId?: unknown };
  const ref = fn.type === 'xstate.raise' ? fn.id : fn.type === 'xstate.cancel' ? fn.sendId : undefined;
  return typeof ref === 'string' && ref.startsWith('xstate.after.');
}

function label(event: string, guard: string | undefined, actions: string[]): string {
  let text = event;
  if (guard !== undefined) text += ` [${guard}]`;
  if (actions.length > 0) text += ` / ${actions.join(', ')}`;
  return text;
}

function describeState(node: NodeLike, transitions: DiagramTransition[]): DiagramState {
  const id = safeId(node);
  const own: TransitionLike[] = [];
  for (const list of node.transitions.values()) own.push(...list);
  for (const t of node.always ?? []) own.push(t);
  for (const t of own) {
    const targets = t.target !== undefined && t.target.length > 0 ? t.target : undefined;
    const guard = t.guard === undefined ? undefined : guardName(t.guard);
    const actions = t.actions.map(actionName);
    const { event, kind } = describeEvent(t);
    for (const target of targets ?? [node]) {
      transitions.push({
        source: id,
        target: safeId(target),
        event,
        kind,
        guard,
        actions,
        targetless: targets === undefined,
        label: label(event, guard, actions),
      });
    }
  }
  const initialTarget = node.initial?.target?.[0];
  return {
    id,
    key: node.path.length === 0 ? node.machine.id : node.key,
    path: node.path.join('.'),
    type: node.type,
    tags: [...node.tags].sort(),
    entry: node.entry.filter((a) => !isDelayPlumbing(a)).map(actionName),
    exit: node.exit.filter((a) => !isDelayPlumbing(a)).map(actionName),
    initial: initialTarget === undefined ? undefined : safeId(initialTarget),
    children: Object.values(node.states).map((child) => describeState(child, transitions)),
  };
}

/**
 * The note lines both renderers draw under a state's name: its tags, entry and exit actions.
 *
 * @example
 * ```ts
 * stateNotes(state); // ['tags: may-send', 'entry / startDrainTimer']
 * ```
 */
export function stateNotes(state: DiagramState): string[] {
  const lines: string[] = [];
  if (state.tags.length > 0) lines.push(`tags: ${state.tags.join(', ')}`);
  if (state.entry.length > 0) lines.push(`entry / ${state.entry.join(', ')}`);
  if (state.exit.length > 0) lines.push(`exit / ${state.exit.join(', ')}`);
  return lines;
}

/**
 * Walk `machine.root` and return its states (with tags, entry and exit actions) and every
 * transition, eventless (`always`) and delayed (`after`) ones included — `toDirectedGraph` drops
 * eventless transitions, so the diagrams do not use it. The order follows the machine's
 * definition, so the output is deterministic.
 *
 * @example
 * ```ts
 * import { connectionMachine } from 'session-supervisor/machines';
 * const model = describeMachine(connectionMachine);
 * model.transitions.filter((t) => t.target === 'closed').length; // 6
 * ```
 */
export function describeMachine(machine: AnyStateMachine): DiagramModel {
  const transitions: DiagramTransition[] = [];
  const root = describeState(machine.root as unknown as NodeLike, transitions);
  return { id: machine.id, root, transitions };
}

/**
 * Every state of a model, depth first, root first.
 *
 * @example
 * ```ts
 * allStates(describeMachine(handlerMachine)).map((s) => s.key); // ['handler', 'running', 'cancelling', 'done']
 * ```
 */
export function allStates(model: DiagramModel): DiagramState[] {
  const out: DiagramState[] = [];
  const visit = (state: DiagramState): void => {
    out.push(state);
    state.children.forEach(visit);
  };
  visit(model.root);
  return out;
}
