/**
 * The runtime decides from the actors. Random interleavings of transport events (half-close, the
 * output going away), drains, closes with every reason, session failures, peer cancels and handler
 * events (settling, grace and request deadlines on the test clock); after every step the runtime's
 * decisions must equal what the machine snapshots say:
 * - the session's state is the connection snapshot's phase;
 * - it may send exactly when the snapshot has the `may-send` tag (and the output works);
 * - it admits a request exactly when the snapshot has the `admits` tag;
 * - the runtime's running / cancelling tables are exactly the handler actors in `running` /
 *   `cancelling`, and every aborted signal carries the reason its handler actor holds;
 * - a session that closed cancelled what was running with the reason in its snapshot.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { connectionPhase } from '../../machines/connection.js';
import type { HandlerSnapshot } from '../../machines/handler-logic.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';
import { CancelledError } from '../../src/runtime/methods.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import { controlledMethod, flush } from '../helpers/deferred.js';
import { createCheckedSupervisor, settleWaiting } from '../helpers/invariants.js';

const LIMITS = { maxInFlight: 8, requestTimeoutMs: 400, drainTimeoutMs: 300, cancelGraceMs: 100 };

/** JSON-RPC, with an admission hook that throws for `explode`: the session's own machinery fails. */
const dialect: Dialect = {
  ...jsonRpcDialect,
  admit(request) {
    if (request.method === 'explode') throw new Error('admission bug');
    return undefined;
  },
};

type Command =
  | { kind: 'request'; id: number; method: 'slow' | 'obedient' | 'echo' }
  | { kind: 'cancel'; id: number }
  | { kind: 'settle'; pick: number; ok: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'endInput' }
  | { kind: 'vanish' }
  | { kind: 'drain' }
  | { kind: 'close'; reason: CancelReason }
  | { kind: 'explode' };

const id = fc.integer({ min: 1, max: 6 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('request' as const), id, method: fc.constantFrom('slow' as const, 'obedient' as const, 'echo' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), id }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), ok: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(50, 100, 300, 400) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'endInput' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'vanish' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), reason: fc.constantFrom(...CANCEL_REASONS) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'explode' as const }) },
);

describe('the runtime decides from the actors', () => {
  // A fixed case first: a cancelled call still in its grace and a new request that reused its id,
  // two calls with one id in one session, settled oldest first (a seed once found it).
  const reusedId: Command[] = [
    { kind: 'request', id: 1, method: 'slow' },
    { kind: 'cancel', id: 1 },
    { kind: 'request', id: 1, method: 'slow' },
    { kind: 'settle', pick: 0, ok: true },
    { kind: 'settle', pick: 0, ok: false },
    { kind: 'advance', ms: 100 },
  ];
  test.prop([fc.array(command, { maxLength: 30 })], { numRuns: 200, examples: [[reusedId]] })(
    'may-send, admission and who is cancelled with which reason equal the machine snapshots after every step',
    async (commands) => {
      const slow = controlledMethod();
      const obedient = controlledMethod({ obeySignal: true });
      const h = createCheckedSupervisor({
        limits: LIMITS,
        dialect,
        expectSessionFailures: true,
        methods: { slow: slow.handler, obedient: obedient.handler, echo: (p) => p ?? null, explode: (p) => p ?? null },
      });
      const { peer, session, transport } = h.connect();
      let probe = 0;
      /** The connection's phase and tags as the runtime read them just before the step. */
      let closedWith: { reason: CancelReason | null; running: Set<AnyActorRef> } | undefined;

      const handlerActors = (): AnyActorRef[] =>
        h.checker.calls.filter((c) => c.sessionId === session.id && c.actor !== undefined).map((c) => c.actor!);

      const agree = (): void => {
        const snapshot = session.actor.getSnapshot();
        const phase = connectionPhase(snapshot);
        expect(session.state).toBe(phase);
        const active = snapshot.status === 'active';
        const maySend = active && snapshot.hasTag('may-send');
        const admits = active && snapshot.hasTag('admits');

        // The send gate follows the tag (and the output).
        const blockedBefore = h.supervisor.stats().blockedSends;
        const sent = session.notify('probe');
        expect(sent).toBe(maySend && transport.outputOpen);
        expect(h.supervisor.stats().blockedSends - blockedBefore).toBe(sent ? 0 : 1);

        // Admission follows the tag: a probe request is admitted (and answered) or refused.
        const before = h.supervisor.stats();
        probe += 1;
        peer.send({ jsonrpc: '2.0', id: `probe-${probe}`, method: 'echo' });
        const after = h.supervisor.stats();
        if (inputEnded) {
          // The peer can send nothing after its half-close: nothing reaches admission.
          expect(after.requests - before.requests + after.refused - before.refused).toBe(0);
        } else if (phase !== 'closed') {
          expect(after.requests - before.requests).toBe(admits ? 1 : 0);
          expect(after.refused - before.refused).toBe(admits ? 0 : 1);
        } else {
          // A closed session reads no more frames at all.
          expect(after.requests - before.requests).toBe(0);
        }

        // The runtime's tables are the handler actors' states.
        const running = new Set([...session.inflight.running.values()].map((r) => r.actor as AnyActorRef));
        const expectedRunning = new Set<AnyActorRef>();
        let cancelling = 0;
        for (const ref of handlerActors()) {
          const s = ref.getSnapshot() as HandlerSnapshot;
          if (s.status === 'active' && s.value === 'running') expectedRunning.add(ref);
          if (s.status === 'active' && s.value === 'cancelling') cancelling += 1;
        }
        expect(running).toEqual(expectedRunning);
        expect(session.cancellingCount).toBe(cancelling);

        // Every aborted signal carries the reason its handler actor holds; no other is aborted.
        for (const call of h.checker.calls) {
          if (call.actor === undefined || call.sessionId !== session.id) continue;
          const reason = (call.actor.getSnapshot() as HandlerSnapshot).context.reason;
          expect(call.signal.aborted).toBe(reason !== null);
          if (reason !== null) expect((call.signal.reason as CancelledError).reason).toBe(reason);
        }

        // A step that closes directly (not through a deadline, which may cancel for a request
        // timeout in the same step) cancels what was running with the reason the snapshot holds.
        if (phase === 'closed' && closedWith === undefined && directClose) {
          closedWith = { reason: session.actor.getSnapshot().context.closeReason, running: lastRunning };
          for (const ref of closedWith.running) {
            const s = ref.getSnapshot() as HandlerSnapshot;
            expect(s.context.reason).toBe(snapshot.status === 'error' ? 'session-failed' : (closedWith.reason ?? 'shutdown'));
          }
        }
        lastRunning = running;
      };
      let lastRunning = new Set<AnyActorRef>();

      let directClose = false;
      let inputEnded = false;
      agree();
      for (const c of commands) {
        directClose = c.kind === 'vanish' || c.kind === 'close' || c.kind === 'explode';
        switch (c.kind) {
          case 'request':
            peer.send({ jsonrpc: '2.0', id: c.id, method: c.method });
            break;
          case 'cancel':
            peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: c.id } });
            break;
          case 'settle':
            settleWaiting(h.checker, { slow, obedient }, c.pick, c.ok);
            await flush();
            break;
          case 'advance':
            h.clock.advance(c.ms);
            await flush();
            break;
          case 'endInput':
            inputEnded = true;
            peer.endInput();
            break;
          case 'vanish':
            inputEnded = true;
            peer.vanish();
            break;
          case 'drain':
            session.drain();
            break;
          case 'close':
            session.close(c.reason);
            break;
          case 'explode':
            peer.send({ jsonrpc: '2.0', id: 99, method: 'explode' });
            break;
        }
        await flush();
        agree();
        h.checker.assertHolds();
      }
      const closed = h.supervisor.close();
      h.clock.advance(LIMITS.cancelGraceMs);
      slow.resolveAll('late');
      await flush();
      await closed;
      directClose = false;
      agree();
      h.checker.assertFinal();
    },
  );
});
