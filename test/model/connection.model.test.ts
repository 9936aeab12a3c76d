/**
 * Model-based tests of the connection lifecycle: every path `createTestModel` generates from
 * `connectionMachine` is replayed against the real runtime (createSupervisor + memory transport +
 * test clock), and after every step the runtime's connection actor — seen through an `inspect`
 * observer — must be in the state the model says, with the same context.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, type AnyActorRef, type InspectionEvent } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { connectionMachine, connectionPhase, type ConnectionEvent } from '../../machines/connection.js';
import { CANCEL_REASONS } from '../../machines/reasons.js';
import { createTestClock } from '../../src/runtime/clock.js';
import { createSupervisor } from '../../src/supervisor.js';
import { controlledMethod, flush } from '../helpers/deferred.js';
import { createInvariantChecker } from '../helpers/invariants.js';
import { coverageSuite } from './coverage.js';

const LIMITS = { drainTimeoutMs: 1_000, cancelGraceMs: 100 };
const IN_FLIGHT = 2;

const EVENTS: ConnectionEvent[] = [
  { type: 'transport.inputEnded' },
  { type: 'transport.closed' },
  { type: 'session.drain' },
  ...CANCEL_REASONS.map((reason): ConnectionEvent => ({ type: 'session.close', reason })),
  { type: 'handlers.idle' },
  { type: 'timer.drainDeadline' },
];

const model = createTestModel(connectionMachine, {
  events: EVENTS,
  input: { sessionId: 's1' },
  stopWhen: (state) => state.status === 'done',
});
const paths = model.getShortestPaths();

type ConnectionSnapshot = ReturnType<typeof initialTransition<typeof connectionMachine>>[0];

/** A real supervisor with one session and IN_FLIGHT handlers the test settles by hand. */
function system() {
  const clock = createTestClock();
  const checker = createInvariantChecker({ clock });
  const slow = controlledMethod({ obeySignal: true });
  let connection: AnyActorRef | undefined;
  let observed: ConnectionSnapshot | undefined;
  const inspect = (event: InspectionEvent): void => {
    checker.inspect(event);
    const ref = event.actorRef as AnyActorRef;
    if (event.type === '@xstate.actor' && ref._parent !== undefined && ref._parent._parent === undefined) connection = ref;
    if (event.type === '@xstate.snapshot' && ref === connection) observed = event.snapshot as ConnectionSnapshot;
  };
  const supervisor = createSupervisor({
    clock,
    limits: LIMITS,
    methods: checker.wrap({ slow: slow.handler }),
    inspect,
    logger: checker.logger,
  });
  checker.watch(supervisor);
  const { peer, session, transport } = checker.connect();
  for (let id = 1; id <= IN_FLIGHT; id += 1) peer.send({ jsonrpc: '2.0', id, method: 'slow' });
  return { clock, checker, slow, supervisor, peer, session, transport, observed: () => observed };
}

describe('connection model against the runtime', () => {
  coverageSuite('connection', connectionMachine, paths, { sessionId: 's1' });

  it.each(paths.map((p) => [p.description, p]))('%s', async (_description, path) => {
    const sut = system();
    const expectState = (state: ConnectionSnapshot): void => {
      const observed = sut.observed();
      expect(observed?.value).toEqual(state.value);
      expect(observed?.context).toEqual(state.context);
      expect(sut.session.state).toBe(connectionPhase(state));
      // The send guard follows the machine's tag.
      const sendsBefore = sut.supervisor.stats().blockedSends;
      expect(sut.session.notify('probe')).toBe(state.hasTag('may-send'));
      expect(sut.supervisor.stats().blockedSends - sendsBefore).toBe(state.hasTag('may-send') ? 0 : 1);
      if (state.status === 'done') {
        // Closing cancelled the handlers still live with the reason of the close.
        const reason = state.context.closeReason;
        const cancelled = sut.supervisor.stats().cancelled;
        for (const r of CANCEL_REASONS) expect(cancelled[r]).toBe(r === reason && !idled ? IN_FLIGHT : 0);
      }
      sut.checker.assertHolds();
    };
    let idled = false;
    expectState(initialTransition(connectionMachine, { sessionId: 's1' })[0]);

    await path.test({
      events: {
        'transport.inputEnded': () => sut.peer.endInput(),
        'transport.closed': () => sut.peer.vanish(),
        'session.drain': () => sut.session.drain(),
        'session.close': ({ event }) => sut.session.close((event as Extract<ConnectionEvent, { type: 'session.close' }>).reason),
        'handlers.idle': async () => {
          idled = true;
          sut.slow.resolveAll('finished');
          await flush();
        },
        'timer.drainDeadline': () => sut.clock.advance(LIMITS.drainTimeoutMs),
      },
      states: { '*': (state) => expectState(state) },
    });

    const closed = sut.supervisor.close();
    sut.clock.advance(LIMITS.cancelGraceMs);
    sut.slow.resolveAll('late');
    await flush();
    await closed;
    expect(sut.transport.writesAfterClose).toBe(0);
    sut.checker.assertFinal();
  });
});
