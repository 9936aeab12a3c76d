/**
 * State and transition coverage of model-based test paths, measured against the machine itself:
 * every state node and every transition (event and eventless) found by walking `machine.root`.
 *
 * @example
 * ```ts
 * const coverage = measureCoverage(connectionMachine, paths);
 * console.log(formatCoverage('connection', coverage));
 * ```
 */
import { afterAll, expect, it } from 'vitest';
import { getMicrosteps, initialTransition, type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition, type EventObject } from 'xstate';

/**
 * Coverage figures.
 *
 * @example
 * ```ts
 * expect(coverage.statesVisited).toBe(coverage.statesTotal);
 * ```
 */
export interface Coverage {
  statesVisited: number;
  statesTotal: number;
  transitionsTaken: number;
  transitionsTotal: number;
  /** Ids of the states never visited and `source --event-->` of the transitions never taken. */
  missing: string[];
}

interface Walked {
  states: AnyStateNode[];
  transitions: Map<AnyTransitionDefinition, string>;
}

/**
 * Every state node below the root and every transition out of each, including eventless ones
 * (`always`), which `toDirectedGraph` would drop.
 *
 * @example
 * ```ts
 * walkMachine(handlerMachine).transitions.size; // 6
 * ```
 */
export function walkMachine(machine: AnyStateMachine): Walked {
  const states: AnyStateNode[] = [];
  const transitions = new Map<AnyTransitionDefinition, string>();
  const visit = (node: AnyStateNode): void => {
    if (node !== machine.root) states.push(node);
    for (const [eventType, list] of node.transitions) {
      list.forEach((t: AnyTransitionDefinition, i: number) => transitions.set(t, `${node.id} --${eventType}${list.length > 1 ? `[${i}]` : ''}-->`));
    }
    (node.always ?? []).forEach((t: AnyTransitionDefinition, i: number) => transitions.set(t, `${node.id} --(always ${i})-->`));
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return { states, transitions };
}

/** A path as the test model hands it out: the snapshot after each step. */
interface PathLike {
  steps: ReadonlyArray<{ event: EventObject; state: unknown }>;
}

/**
 * Replay each path on the machine and count the states visited and transitions taken (the
 * transitions the machine selects for each step's event, then any eventless ones that follow).
 *
 * @example
 * ```ts
 * measureCoverage(handlerMachine, model.getShortestPaths(), { requestId: 1, method: 'm' });
 * ```
 */
export function measureCoverage(machine: AnyStateMachine, paths: readonly PathLike[], input?: unknown): Coverage {
  const { states, transitions } = walkMachine(machine);
  const visited = new Set<AnyStateNode>();
  const taken = new Set<AnyTransitionDefinition>();
  const [initial] = initialTransition(machine, input);
  for (const node of initial._nodes as AnyStateNode[]) visited.add(node);
  for (const path of paths) {
    let previous = initial;
    for (const step of path.steps) {
      for (const t of machine.getTransitionData(previous, step.event) as AnyTransitionDefinition[]) taken.add(t);
      // Microsteps after the first are eventless transitions: attribute each to the `always`
      // transition of the previous microstep whose targets the next one entered.
      const micro = getMicrosteps(machine, previous, step.event).map(([snapshot]) => snapshot as typeof initial);
      for (let i = 1; i < micro.length; i += 1) {
        const before = micro[i - 1]!;
        const after = micro[i]!;
        for (const node of before._nodes as AnyStateNode[]) {
          for (const t of (node.always ?? []) as AnyTransitionDefinition[]) {
            const targets = (t.target ?? []) as AnyStateNode[];
            if (targets.every((target) => after._nodes.includes(target))) taken.add(t);
          }
        }
      }
      const next = step.state as typeof initial;
      for (const node of next._nodes as AnyStateNode[]) visited.add(node);
      previous = next;
    }
  }
  const missing = [
    ...states.filter((s) => !visited.has(s)).map((s) => s.id),
    ...[...transitions].filter(([t]) => !taken.has(t)).map(([, label]) => label),
  ];
  return {
    statesVisited: states.filter((s) => visited.has(s)).length,
    statesTotal: states.length,
    transitionsTaken: [...transitions.keys()].filter((t) => taken.has(t)).length,
    transitionsTotal: transitions.size,
    missing,
  };
}

/**
 * One line for the test output.
 *
 * @example
 * ```ts
 * formatCoverage('handler', c); // 'handler model: states 3/3 (100%), transitions 6/6 (100%)'
 * ```
 */
export function formatCoverage(name: string, c: Coverage): string {
  const pct = (a: number, b: number): string => `${b === 0 ? 100 : Math.round((a / b) * 1000) / 10}%`;
  return `${name} model: states ${c.statesVisited}/${c.statesTotal} (${pct(c.statesVisited, c.statesTotal)}), transitions ${c.transitionsTaken}/${c.transitionsTotal} (${pct(c.transitionsTaken, c.transitionsTotal)})`;
}

/**
 * Inside a `describe`: measure the paths' coverage of the machine, print it once the suite is done,
 * and add the test that wants every state and transition covered.
 *
 * @example
 * ```ts
 * describe('handler model against the runtime', () => {
 *   coverageSuite('handler', handlerMachine, paths, INPUT);
 * });
 * ```
 */
export function coverageSuite(name: string, machine: AnyStateMachine, paths: readonly PathLike[], input?: unknown): Coverage {
  const coverage = measureCoverage(machine, paths, input);
  afterAll(() => {
    console.log(`${formatCoverage(name, coverage)}, ${paths.length} paths run against the runtime`);
  });
  it('covers every state and every transition of the machine', () => {
    expect(coverage.missing).toEqual([]);
    expect(coverage.statesVisited / coverage.statesTotal).toBe(1);
    expect(coverage.transitionsTaken / coverage.transitionsTotal).toBe(1);
  });
  return coverage;
}
