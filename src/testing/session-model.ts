import { createTestModel } from 'xstate/graph';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { connectionMachine, type ConnectionContext, type ConnectionEvent } from '../../machines/connection.js';
import { handlerMachine, type HandlerContext, type HandlerEvent } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';
import { Harness, ModelCheckError, SLOW_ID, type SessionServerFactory } from './harness.js';

/**
 * Options of {@link createSessionTestModel}.
 *
 * @example
 * ```ts
 * createSessionTestModel(factory, { halfClose: false, cancelReasons: ['client', 'shutdown'] });
 * ```
 */
export interface SessionTestModelOptions {
  /** The transport has a half-close (input ends, output works): drive `transport.inputEnded`. Default `true`; `false` for WebSocket. */
  halfClose?: boolean;
  /**
   * The reasons to cancel the slow request with. Default: every reason but `request-timeout`
   * (include it when the server sets `limits.requestTimeoutMs`). `session-failed` is driven by
   * `session.close('session-failed')`, the close the runtime itself makes when a session fails.
   */
  cancelReasons?: readonly CancelReason[];
  /** Hang guard for each check, in real milliseconds. Default 5 000. */
  settleTimeoutMs?: number;
}

/**
 * One generated test: a path through the connection or the handler machine, driven against a
 * fresh server. `run()` resolves when every step matched the model and every invariant held;
 * it rejects with a {@link ModelCheckError} that names the step otherwise.
 *
 * @example
 * ```ts
 * for (const path of model.paths) it(path.description, () => path.run());
 * ```
 */
export interface SessionTestPath {
  readonly machine: 'connection' | 'handler';
  readonly description: string;
  /** The events of the path, in order (`handler.cancel(client)`, …). */
  readonly events: readonly string[];
  run(): Promise<void>;
}

/**
 * Which states and transitions of the two machines the generated paths cover.
 *
 * @example
 * ```ts
 * expect(model.coverage.missing).toEqual([]);
 * ```
 */
export interface SessionModelCoverage {
  /** `machine:state` for every state, and `machine:source --event--> target` for every transition. */
  readonly all: readonly string[];
  readonly covered: readonly string[];
  readonly missing: readonly string[];
}

/**
 * The generated model-based tests of a server.
 *
 * @example
 * ```ts
 * const model = createSessionTestModel(factory);
 * model.paths.length; // connection paths + handler paths
 * ```
 */
export interface SessionTestModel {
  readonly connectionPaths: readonly SessionTestPath[];
  readonly handlerPaths: readonly SessionTestPath[];
  readonly paths: readonly SessionTestPath[];
  readonly coverage: SessionModelCoverage;
}

type Step<C, E> = { event: E; state: { value: unknown; context: C } };

/** A state value as one word: a nested value (`{ open: 'draining' }`) reads as its leaf (`draining`). */
const stateLabel = (value: unknown): string => {
  let v = value;
  while (typeof v === 'object' && v !== null) v = Object.values(v)[0];
  return String(v);
};

const eventLabel = (event: { type: string; reason?: string }): string =>
  event.reason === undefined ? event.type : `${event.type}(${event.reason})`;

function describe<C, E extends { type: string }>(machine: string, steps: ReadonlyArray<Step<C, E>>): string {
  let text = `${machine}: ${stateLabel(steps[0]?.state.value)}`;
  for (const step of steps.slice(1)) text += ` —${eventLabel(step.event)}→ ${stateLabel(step.state.value)}`;
  return text;
}

/**
 * Every leaf state and every transition out of it (its own and those it inherits from a compound
 * parent, like the connection's `open`), as coverage keys.
 */
function structure(name: string, machine: AnyStateMachine): string[] {
  const keys: string[] = [];
  const visit = (node: AnyStateNode, inherited: AnyStateNode[]): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (children.length > 0) {
      for (const child of children) visit(child, [node, ...inherited]);
      return;
    }
    keys.push(`${name}:${node.key}`);
    for (const source of [node, ...inherited]) {
      for (const [eventType, transitions] of source.transitions) {
        for (const t of transitions) for (const target of t.target ?? []) keys.push(`${name}:${node.key} --${eventType}--> ${target.key}`);
      }
    }
  };
  for (const node of Object.values(machine.root.states) as AnyStateNode[]) visit(node, []);
  return keys;
}

function coveredBy<C, E extends { type: string }>(name: string, steps: ReadonlyArray<Step<C, E>>, into: Set<string>): void {
  let previous: string | undefined;
  for (const step of steps) {
    const value = stateLabel(step.state.value);
    into.add(`${name}:${value}`);
    if (previous !== undefined) into.add(`${name}:${previous} --${step.event.type}--> ${value}`);
    previous = value;
  }
}

/** Open, run the body, always close; the first failure wins. */
async function runPath(h: Harness, factory: SessionServerFactory, body: (h: Harness) => Promise<void>): Promise<void> {
  let failure: unknown;
  try {
    await h.open(factory);
    await body(h);
  } catch (error) {
    failure = error;
  }
  try {
    await h.close();
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
}

async function driveCancel(h: Harness, reason: CancelReason): Promise<void> {
  const { supervisor, session, client, clock } = h;
  switch (reason) {
    case 'client': {
      const notify = h.server.cancelNotification ?? ((id) => ({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } }));
      client.send(notify(SLOW_ID));
      return;
    }
    case 'transport-closed':
      client.vanish();
      return;
    case 'drain-timeout':
      session.drain();
      clock.advance(supervisor.limits.drainTimeoutMs);
      return;
    case 'request-timeout':
      if (supervisor.limits.requestTimeoutMs <= 0) {
        throw new ModelCheckError(`${h.where}: request-timeout needs limits.requestTimeoutMs > 0 (or leave it out of cancelReasons)`);
      }
      clock.advance(supervisor.limits.requestTimeoutMs);
      return;
    case 'shutdown':
    case 'session-failed':
      session.close(reason);
      return;
  }
}

async function connectionStep(h: Harness, event: ConnectionEvent): Promise<void> {
  switch (event.type) {
    case 'transport.inputEnded':
      if (h.client.endInput === undefined) throw new ModelCheckError(`${h.where}: the client has no half-close; pass { halfClose: false }`);
      h.client.endInput();
      return;
    case 'transport.closed':
      h.client.vanish();
      return;
    case 'session.drain':
      h.session.drain();
      return;
    case 'session.close':
      h.session.close(event.reason);
      return;
    case 'handlers.idle':
      h.gate.release(h.session.id, SLOW_ID, 'result');
      return;
    case 'timer.drainDeadline':
      h.clock.advance(h.supervisor.limits.drainTimeoutMs);
      return;
  }
}

async function expectConnection(h: Harness, value: string, context: ConnectionContext): Promise<void> {
  await h.eventually(`session state '${value}'`, () => (h.session.state === value ? undefined : `it is '${h.session.state}'`));
  if (value === 'draining') {
    await h.eventually('the slow handler still running while draining', () => {
      const v = h.handler()?.value;
      return v === 'running' ? undefined : `it is ${String(v)}`;
    });
    // After a half-close the peer can send nothing more; after a server-side drain it still can.
    if (context.drainReason === 'shutdown') await h.probeRefused();
  }
  if (value === 'closed') {
    const reason = context.closeReason;
    if (reason === null) {
      await h.eventually('the slow request answered with a result before the close', () => {
        const answer = h.responsesFor(SLOW_ID)[0];
        return answer !== undefined && 'result' in answer ? undefined : `got ${JSON.stringify(answer)}`;
      });
    } else {
      await h.eventually(`the slow handler cancelled with '${reason}'`, () => {
        const got = h.handler()?.context.reason;
        return got === reason ? undefined : `its reason is ${String(got)}`;
      });
    }
  }
  h.checkSignal(h.handler()?.context.reason != null);
}

async function expectHandler(h: Harness, value: string, context: HandlerContext, event: HandlerEvent): Promise<void> {
  await h.eventually(`handler '${value}' (reason ${String(context.reason)}, settled ${String(context.settled)})`, () => {
    const got = h.handler();
    if (got === undefined) return 'no handler actor seen';
    if (got.value !== value || got.context.reason !== context.reason || got.context.settled !== context.settled) {
      return `it is '${got.value}' (reason ${String(got.context.reason)}, settled ${String(got.context.settled)})`;
    }
    return undefined;
  });
  h.checkSignal(context.reason !== null);
  const stats = h.supervisor.stats();
  const expected = { inFlight: value === 'running' ? 1 : 0, cancelling: value === 'cancelling' ? 1 : 0 };
  if (stats.inFlight !== expected.inFlight || stats.cancelling !== expected.cancelling) {
    throw new ModelCheckError(`${h.where}: stats() says inFlight ${stats.inFlight}, cancelling ${stats.cancelling}; expected ${JSON.stringify(expected)}`);
  }
  if (context.reason === null && value === 'done') {
    const key = event.type === 'handler.resolve' ? 'result' : 'error';
    await h.eventually(`an answer with '${key}' for the slow request`, () => {
      const answer = h.responsesFor(SLOW_ID)[0];
      return answer !== undefined && key in answer ? undefined : `got ${JSON.stringify(answer)}`;
    });
  }
}

async function handlerStep(h: Harness, event: HandlerEvent): Promise<void> {
  switch (event.type) {
    case 'handler.resolve':
      h.gate.release(h.session.id, SLOW_ID, 'result');
      return;
    case 'handler.reject':
      h.gate.release(h.session.id, SLOW_ID, 'error');
      return;
    case 'handler.cancel':
      return driveCancel(h, event.reason);
    case 'timer.cancelGrace':
      h.clock.advance(h.supervisor.limits.cancelGraceMs);
      return;
  }
}

/**
 * Generate model-based tests of your own server from the library's machines. The paths cover every
 * state and every transition of the connection machine (`connected` → `draining` → `closed`) and of
 * the handler machine (`running` → `cancelling` → `done`). Each path builds a fresh server with
 * `factory`, connects a client (in memory by default, or a real socket through `connect`), opens one
 * slow request and then drives the path's events: a half-close, a vanishing peer, a drain, a close,
 * a cancel notification, the drain deadline or the cancel grace on the manual clock. After every
 * step it checks the server's session and handler state and `stats()` against the model, and the
 * invariants: no frame written after the output closed, at most one response per id, a draining
 * session refuses new requests; at the end, that the handler settled exactly once and no timer
 * or actor is left.
 *
 * The factory's contract: build the supervisor on the given `clock`; let `slowMethod` wait on the
 * given `gate` with its own context (`await gate.hold(ctx)`: the model also checks that `ctx.signal`
 * is aborted exactly when the request is cancelled), let the gate's rejection propagate, and return
 * a value.
 *
 * @example
 * ```ts
 * import { it } from 'vitest';
 * import { createSupervisor } from 'session-supervisor';
 * import { createSessionTestModel } from 'session-supervisor/testing';
 *
 * const model = createSessionTestModel(({ clock, gate }) => ({
 *   supervisor: createSupervisor({
 *     clock,
 *     methods: { slow: async (_params, ctx) => { await gate.hold(ctx); return { ok: true }; } },
 *   }),
 *   slowMethod: 'slow',
 * }));
 * for (const path of model.paths) it(path.description, () => path.run());
 * ```
 */
export function createSessionTestModel(factory: SessionServerFactory, options: SessionTestModelOptions = {}): SessionTestModel {
  const halfClose = options.halfClose ?? true;
  const reasons = options.cancelReasons ?? CANCEL_REASONS.filter((r) => r !== 'request-timeout');
  const settleTimeoutMs = options.settleTimeoutMs ?? 5_000;
  const covered = new Set<string>();

  /** Each path of one machine as a runnable test path: its steps counted for coverage, run by `body`. */
  const toPaths = <C, E extends { type: string }>(
    machine: 'connection' | 'handler',
    paths: ReadonlyArray<{ steps: unknown }>,
    body: (h: Harness, steps: ReadonlyArray<Step<C, E>>) => Promise<void>,
  ): SessionTestPath[] =>
    paths.map((path) => {
      const steps = path.steps as ReadonlyArray<Step<C, E>>;
      coveredBy(machine, steps, covered);
      const description = describe(machine, steps);
      return {
        machine,
        description,
        events: steps.slice(1).map((s) => eventLabel(s.event)),
        run: () => runPath(new Harness(description, settleTimeoutMs), factory, (h) => body(h, steps)),
      };
    });

  const connectionEvents: ConnectionEvent[] = [
    ...(halfClose ? [{ type: 'transport.inputEnded' } as const] : []),
    { type: 'transport.closed' },
    { type: 'session.drain' },
    { type: 'session.close', reason: 'shutdown' },
    { type: 'handlers.idle' },
    { type: 'timer.drainDeadline' },
  ];
  const connectionModel = createTestModel(connectionMachine, {
    events: connectionEvents,
    input: { sessionId: 'model' },
    // The traversal also tries every event the machine names, so leave the half-close out here.
    filterEvents: (_snapshot, event) => halfClose || event.type !== 'transport.inputEnded',
    stopWhen: (s) => s.status === 'done',
  });
  const connectionPaths = toPaths<ConnectionContext, ConnectionEvent>('connection', connectionModel.getSimplePaths(), async (h, steps) => {
    await expectConnection(h, 'connected', steps[0]!.state.context);
    for (const step of steps.slice(1)) {
      await connectionStep(h, step.event);
      await expectConnection(h, stateLabel(step.state.value), step.state.context);
    }
  });

  const handlerEvents: HandlerEvent[] = [
    { type: 'handler.resolve' },
    { type: 'handler.reject' },
    ...reasons.map((reason) => ({ type: 'handler.cancel', reason }) as const),
    { type: 'timer.cancelGrace' },
  ];
  const handlerModel = createTestModel(handlerMachine, {
    events: handlerEvents,
    input: { requestId: SLOW_ID, method: 'slow' },
    stopWhen: (s) => s.status === 'done',
  });
  const handlerPaths = toPaths<HandlerContext, HandlerEvent>('handler', handlerModel.getSimplePaths(), async (h, steps) => {
    await expectHandler(h, 'running', steps[0]!.state.context, steps[0]!.event);
    for (const step of steps.slice(1)) {
      await handlerStep(h, step.event);
      await expectHandler(h, stateLabel(step.state.value), step.state.context, step.event);
    }
  });

  const all = [...structure('connection', connectionMachine), ...structure('handler', handlerMachine)];
  return {
    connectionPaths,
    handlerPaths,
    paths: [...connectionPaths, ...handlerPaths],
    coverage: { all, covered: all.filter((k) => covered.has(k)), missing: all.filter((k) => !covered.has(k)) },
  };
}
