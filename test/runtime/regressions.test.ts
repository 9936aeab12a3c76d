/**
 * The seed's four failures, each as a named regression test over the real runtime and the memory
 * transport, with the invariant checker watching.
 */
import { describe, expect, it } from 'vitest';
import type { CancelReason } from '../../machines/reasons.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import { CancelledError, type RequestContext } from '../../src/runtime/methods.js';
import type { Transport, TransportSink } from '../../src/transports/types.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import { controlledMethod, flush } from '../helpers/deferred.js';
import { createCheckedSupervisor } from '../helpers/invariants.js';

const req = (id: unknown, method: string, params?: unknown) =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };

/** MCP-like: no response at all after a client cancel; the rest as plain JSON-RPC. */
const quietDialect: Dialect = {
  ...jsonRpcDialect,
  name: 'quiet',
  responseOnCancel: (reason) => (reason === 'client' ? undefined : jsonRpcDialect.responseOnCancel(reason)),
};

/**
 * A thenable whose callbacks run synchronously when it settles, so a handler can settle inside the
 * runtime's own cleanup loop (the shape of the seed's fourth failure).
 */
function syncThenable() {
  let onResolve: ((value: unknown) => void) | undefined;
  let onReject: ((error: unknown) => void) | undefined;
  let settled = false;
  return {
    thenable: {
      then(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
        onResolve = resolve;
        onReject = reject;
      },
    },
    resolve(value: unknown) {
      if (settled) return;
      settled = true;
      onResolve?.(value);
    },
    reject(error: unknown) {
      if (settled) return;
      settled = true;
      onReject?.(error);
    },
  };
}

describe('regression (a): the transport closes with handlers in flight', () => {
  it('cancels every in-flight handler with transport-closed and writes nothing', async () => {
    const obedient = controlledMethod({ obeySignal: true });
    const stubborn = controlledMethod();
    const h = createCheckedSupervisor({ methods: { obedient: obedient.handler, stubborn: stubborn.handler } });
    const { peer, session, transport } = h.connect();
    const cancelled: Array<[unknown, CancelReason]> = [];
    h.supervisor.on('request.cancelled', (e) => cancelled.push([e.requestId, e.reason]));
    const contexts: RequestContext[] = [];
    for (let id = 1; id <= 6; id += 1) {
      peer.send(req(id, id % 2 === 0 ? 'stubborn' : 'obedient'));
      contexts.push(id % 2 === 0 ? stubborn.context(id) : obedient.context(id));
    }
    expect(h.supervisor.stats().inFlight).toBe(6);

    peer.vanish('socket reset');

    expect(session.state).toBe('closed');
    expect(cancelled).toEqual([1, 2, 3, 4, 5, 6].map((id) => [id, 'transport-closed']));
    for (const ctx of contexts) {
      expect(ctx.signal.aborted).toBe(true);
      expect((ctx.signal.reason as CancelledError).reason).toBe('transport-closed');
    }
    // The stubborn ones answer anyway: dropped, never written.
    stubborn.resolveAll('answer into a closed transport');
    await flush();
    const info = await session.closed;
    expect(info.reason).toBe('transport-closed');
    expect(peer.received).toEqual([]);
    expect(transport.writesAfterClose).toBe(0);
    const stats = h.supervisor.stats();
    expect(stats.cancelled['transport-closed']).toBe(6);
    // Only the stubborn ones answered late; the obedient ones rejected with their signal's reason.
    expect(stats.lateAnswers).toBe(3);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});

describe('regression (b): a handler answers in the window between close and its cancel', () => {
  /**
   * A memory transport whose output dies before the runtime hears of it (a socket already closed
   * whose close event is still queued): `outputOpen` turns false at once, `onClosed` is delivered
   * when the test says so.
   */
  function lateCloseTransport() {
    const { transport: inner, peer } = createMemoryTransportPair();
    let sink: TransportSink | undefined;
    let dead = false;
    const transport: Transport & { readonly writesAfterClose: number } = {
      kind: 'memory-late-close',
      get outputOpen() {
        return !dead && inner.outputOpen;
      },
      get writesAfterClose() {
        return inner.writesAfterClose;
      },
      start(s) {
        sink = s;
        inner.start({
          onFrame: (f) => s.onFrame(f),
          onMalformed: (p) => s.onMalformed(p),
          onInputEnded: () => s.onInputEnded(),
          onClosed: () => {},
        });
      },
      send(frame) {
        inner.send(frame);
      },
      close(intent) {
        inner.close(intent);
      },
    };
    return {
      transport,
      peer,
      dieSilently: () => {
        dead = true;
      },
      deliverClose: () => sink?.onClosed('socket closed'),
    };
  }

  it('blocks and counts the answer, throws nothing, and cancels the rest once the close arrives', async () => {
    const slow = controlledMethod({ obeySignal: true });
    const h = createCheckedSupervisor({ methods: { slow: slow.handler } });
    const t = lateCloseTransport();
    h.checker.track(t.transport, t.peer);
    const session = h.supervisor.attach(t.transport);
    const blocked: string[] = [];
    h.supervisor.on('send.blocked', (e) => blocked.push(e.state));
    t.peer.send(req(1, 'slow'));
    t.peer.send(req(2, 'slow'));

    t.dieSilently();
    slow.resolve(1, 'answered into the window');
    await flush();
    expect(session.state).toBe('connected');
    expect(h.supervisor.stats().blockedSends).toBe(1);
    expect(blocked).toEqual(['connected']);
    expect(t.peer.received).toEqual([]);

    t.deliverClose();
    const info = await session.closed;
    expect(info.reason).toBe('transport-closed');
    const stats = h.supervisor.stats();
    expect(stats.completed).toBe(1);
    expect(stats.cancelled['transport-closed']).toBe(1);
    expect(t.transport.writesAfterClose).toBe(0);
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('blocks and counts a frame a handler sends from inside the close cleanup', async () => {
    let notifyResult: boolean | undefined;
    const slow = controlledMethod({ obeySignal: true });
    const h = createCheckedSupervisor({
      methods: {
        slow: slow.handler,
        chatty: (_p, ctx) =>
          new Promise((_resolve, reject) => {
            ctx.signal.addEventListener(
              'abort',
              () => {
                // A last progress notification, sent after the output is gone.
                notifyResult = ctx.session.notify('progress', { done: false });
                reject(ctx.signal.reason);
              },
              { once: true },
            );
          }),
      },
    });
    const { peer, session, transport } = h.connect();
    peer.send(req(1, 'chatty'));
    peer.send(req(2, 'slow'));
    expect(() => peer.vanish()).not.toThrow();
    expect(notifyResult).toBe(false);
    expect(h.supervisor.stats().blockedSends).toBe(1);
    await session.closed;
    expect(peer.received).toEqual([]);
    expect(transport.writesAfterClose).toBe(0);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});

describe('regression (c): a client cancel and a transport close give different outcomes', () => {
  async function scenario(dialect: Dialect) {
    const slow = controlledMethod({ obeySignal: true });
    const h = createCheckedSupervisor({ methods: { slow: slow.handler, echo: (p) => p }, dialect });
    const cancelling = h.connect();
    const closing = h.connect();
    cancelling.peer.send(req(1, 'slow'));
    closing.peer.send(req(1, 'slow'));
    const cancelSignal = slow.context(1, cancelling.session.id).signal;
    const closeSignal = slow.context(1, closing.session.id).signal;

    cancelling.peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } });
    closing.peer.vanish();
    await flush();
    return { h, cancelling, closing, cancelSignal, closeSignal };
  }

  it('MCP-like dialect: the client cancel gets no response and the session goes on; the close can write nothing', async () => {
    const { h, cancelling, closing, cancelSignal, closeSignal } = await scenario(quietDialect);
    expect((cancelSignal.reason as CancelledError).reason).toBe('client');
    expect((closeSignal.reason as CancelledError).reason).toBe('transport-closed');
    // No response after the client cancel; the session still answers.
    expect(cancelling.peer.received).toEqual([]);
    expect(cancelling.session.state).toBe('connected');
    cancelling.peer.send(req(2, 'echo', ['alive']));
    expect(cancelling.peer.received).toEqual([{ jsonrpc: '2.0', id: 2, result: ['alive'] }]);
    // The close: nothing can be written any more.
    expect(closing.session.state).toBe('closed');
    expect(closing.transport.outputOpen).toBe(false);
    expect(closing.peer.received).toEqual([]);
    expect(closing.transport.writesAfterClose).toBe(0);
    const stats = h.supervisor.stats();
    expect(stats.cancelled.client).toBe(1);
    expect(stats.cancelled['transport-closed']).toBe(1);
    expect(stats.blockedSends).toBe(0);
    h.checker.assertHolds();
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('JSON-RPC dialect: the client cancel is answered -32800; the close still writes nothing', async () => {
    const { h, cancelling, closing } = await scenario(jsonRpcDialect);
    expect(cancelling.peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'client' } } },
    ]);
    expect(closing.peer.received).toEqual([]);
    expect(closing.transport.writesAfterClose).toBe(0);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});

describe('regression (d): handlers settle synchronously while cleanup cancels the others', () => {
  const closes: Array<[string, (s: { session: { close(r?: CancelReason): void }; peer: { vanish(): void } }) => void]> = [
    ['the peer vanishes', ({ peer }) => peer.vanish()],
    ['the server closes the session', ({ session }) => session.close('shutdown')],
  ];

  it.each(closes)('no error and every handler settled once when %s', async (_name, close) => {
    const thenables = new Map<number, ReturnType<typeof syncThenable>>();
    const order: string[] = [];
    const h = createCheckedSupervisor({
      methods: {
        work: (_p, ctx) => {
          const id = ctx.requestId as number;
          const t = syncThenable();
          thenables.set(id, t);
          ctx.signal.addEventListener(
            'abort',
            () => {
              order.push(`abort ${id}`);
              // Settle this handler synchronously, and resolve the next one (not yet cancelled) too.
              t.reject(ctx.signal.reason);
              thenables.get(id + 1)?.resolve(`answered by ${id}'s abort listener`);
            },
            { once: true },
          );
          return t.thenable as unknown as Promise<unknown>;
        },
      },
    });
    const run = h.connect();
    for (let id = 1; id <= 5; id += 1) run.peer.send(req(id, 'work'));
    expect(() => close(run)).not.toThrow();
    const info = await run.session.closed;
    expect(info.failed).toBe(false);
    // 1 is cancelled; its listener answers 2 before 2's cancel; 3 is cancelled and answers 4; 5 is cancelled.
    expect(order).toEqual(['abort 1', 'abort 3', 'abort 5']);
    const stats = h.supervisor.stats();
    expect(stats.completed).toBe(2);
    expect(stats.inFlight + stats.cancelling).toBe(0);
    const cancelledTotal = Object.values(stats.cancelled).reduce((a, b) => a + b, 0);
    expect(cancelledTotal).toBe(3);
    expect(run.transport.writesAfterClose).toBe(0);
    await h.supervisor.close();
    h.checker.assertFinal();
    expect(h.checker.handlerOutcomes()).toMatchObject({ result: 2, cancelled: 3, running: 0, cancelling: 0 });
  });

  it('no error when every abort listener settles every other handler at once', async () => {
    const thenables: Array<ReturnType<typeof syncThenable>> = [];
    const h = createCheckedSupervisor({
      methods: {
        work: (_p, ctx) => {
          const t = syncThenable();
          thenables.push(t);
          ctx.signal.addEventListener(
            'abort',
            () => {
              for (const other of thenables) other.resolve('all at once');
            },
            { once: true },
          );
          return t.thenable as unknown as Promise<unknown>;
        },
      },
      limits: { drainTimeoutMs: 10 },
    });
    const run = h.connect();
    for (let id = 1; id <= 4; id += 1) run.peer.send(req(id, 'work'));
    run.session.drain();
    h.clock.advance(10);
    const info = await run.session.closed;
    expect(info.reason).toBe('drain-timeout');
    // The first cancel answers -32800; its listener settles all four at once, so the rest are late answers.
    expect(run.peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'drain-timeout' } } },
      { jsonrpc: '2.0', id: 2, result: 'all at once' },
      { jsonrpc: '2.0', id: 3, result: 'all at once' },
      { jsonrpc: '2.0', id: 4, result: 'all at once' },
    ]);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});
