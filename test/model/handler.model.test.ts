/**
 * Model-based tests of the handler lifecycle: every path `createTestModel` generates from
 * `handlerMachine` is replayed against the real runtime. Each model event becomes a real stimulus
 * (a deferred settles, the peer cancels, the transport goes away, the clock moves, …) and after every
 * step the runtime's handler actor — seen through an `inspect` observer — must have the value,
 * context and output of the model's state.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, type AnyActorRef, type InspectionEvent } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { handlerLogic, type HandlerSnapshot } from '../../machines/handler-logic.js';
import { handlerMachine, type HandlerEvent } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';
import { createTestClock } from '../../src/runtime/clock.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import { createSupervisor } from '../../src/supervisor.js';
import { controlledMethod, flush } from '../helpers/deferred.js';
import { createInvariantChecker } from '../helpers/invariants.js';
import { coverageSuite } from './coverage.js';

const LIMITS = { requestTimeoutMs: 60_000, drainTimeoutMs: 1_000, cancelGraceMs: 100 };
const INPUT = { requestId: 1, method: 'slow' };

const EVENTS: HandlerEvent[] = [
  { type: 'handler.resolve' },
  { type: 'handler.reject' },
  ...CANCEL_REASONS.map((reason): HandlerEvent => ({ type: 'handler.cancel', reason })),
  { type: 'timer.cancelGrace' },
];

const model = createTestModel(handlerMachine, {
  events: EVENTS,
  input: INPUT,
  stopWhen: (state) => state.status === 'done',
});
const paths = model.getShortestPaths();

/** A dialect whose admission hook has a bug for one method: the seam that fails a session. */
const buggyDialect: Dialect = {
  ...jsonRpcDialect,
  name: 'buggy',
  admit: (request) => {
    if (request.method === 'explode') throw new Error('admission bug');
    return undefined;
  },
};

type ModelSnapshot = ReturnType<typeof initialTransition<typeof handlerMachine>>[0];

/** A real supervisor with one session and one in-flight request (id 1) that ignores its signal. */
function system() {
  const clock = createTestClock();
  const checker = createInvariantChecker({ clock, dialect: buggyDialect, expectSessionFailures: true });
  const slow = controlledMethod();
  let handler: AnyActorRef | undefined;
  const inspect = (event: InspectionEvent): void => {
    checker.inspect(event);
    const ref = event.actorRef as AnyActorRef;
    if (event.type === '@xstate.actor' && (ref as { src?: unknown }).src === handlerLogic) handler = ref;
  };
  const supervisor = createSupervisor({
    clock,
    limits: LIMITS,
    dialect: buggyDialect,
    methods: checker.wrap({ slow: slow.handler, explode: () => 'never runs' }),
    inspect,
    logger: checker.logger,
  });
  checker.watch(supervisor);
  const { peer, session, transport } = checker.connect();
  peer.send({ jsonrpc: '2.0', id: 1, method: 'slow' });
  const actor = handler;
  if (actor === undefined) throw new Error('the inspect observer saw no handler actor');
  return { clock, checker, slow, supervisor, peer, session, transport, actor };
}

type System = ReturnType<typeof system>;

/** The real stimulus behind `handler.cancel` with each reason. */
const CANCEL_STIMULUS: Record<CancelReason, (sut: System) => void> = {
  client: (sut) => sut.peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } }),
  'transport-closed': (sut) => sut.peer.vanish(),
  'drain-timeout': (sut) => {
    sut.session.drain();
    sut.clock.advance(LIMITS.drainTimeoutMs);
  },
  'request-timeout': (sut) => sut.clock.advance(LIMITS.requestTimeoutMs),
  shutdown: (sut) => sut.session.close('shutdown'),
  'session-failed': (sut) => sut.peer.send({ jsonrpc: '2.0', id: 2, method: 'explode' }),
};

describe('handler model against the runtime', () => {
  coverageSuite('handler', handlerMachine, paths, INPUT);

  it.each(paths.map((p) => [p.description, p]))('%s', async (_description, path) => {
    const sut = system();
    const expectState = (state: ModelSnapshot): void => {
      const observed = sut.actor.getSnapshot() as HandlerSnapshot;
      expect(observed.value).toBe(state.value);
      expect(observed.context).toEqual(state.context);
      expect(observed.output).toEqual(state.output);
      expect(observed.status).toBe(state.status);
      // The handler's signal is aborted exactly when the model says it was cancelled.
      const call = sut.checker.calls.find((c) => c.requestId === 1)!;
      expect(call.signal.aborted).toBe(state.context.reason !== null);
      sut.checker.assertHolds();
    };
    expectState(initialTransition(handlerMachine, INPUT)[0]);

    await path.test({
      events: {
        'handler.resolve': async () => {
          sut.slow.resolve(1, 'result');
          await flush();
        },
        'handler.reject': async () => {
          sut.slow.reject(1, new Error('handler failed'));
          await flush();
        },
        'handler.cancel': async ({ event }) => {
          CANCEL_STIMULUS[(event as Extract<HandlerEvent, { type: 'handler.cancel' }>).reason](sut);
          await flush();
        },
        'timer.cancelGrace': () => sut.clock.advance(LIMITS.cancelGraceMs),
      },
      states: { '*': (state) => expectState(state) },
    });

    const closed = sut.supervisor.close();
    sut.clock.advance(LIMITS.cancelGraceMs);
    await flush();
    await closed;
    expect(sut.transport.writesAfterClose).toBe(0);
    sut.checker.assertFinal();
  });
});
