import { describe, expect, it } from 'vitest';
import { CancelledError, type MethodHandler, type RequestContext } from '../../src/runtime/methods.js';
import { createSupervisor } from '../../src/supervisor.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import { flush } from '../helpers/deferred.js';
import { createCheckedSupervisor } from '../helpers/invariants.js';

const req = (id: unknown, method: string) => ({ jsonrpc: '2.0', id, method });
const cancelReq = (id: unknown) => ({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });

/** A handler that settles only through `ctx.onCancel`: it rejects with the reason it is given. */
const rejectOnCancel: MethodHandler = (_params, ctx) => new Promise((_, reject) => ctx.onCancel(reject));

describe('ctx.onCancel', () => {
  it('calls the listener once with the CancelledError that signal.reason holds, on a client cancel', async () => {
    const seen: unknown[] = [];
    let context: RequestContext | undefined;
    const h = createCheckedSupervisor({
      methods: {
        wait: (_params: unknown, ctx: RequestContext) =>
          new Promise((_, reject) => {
            context = ctx;
            ctx.onCancel((reason) => {
              seen.push(reason);
              reject(reason);
            });
          }),
      },
    });
    const { peer } = h.connect();
    peer.send(req(1, 'wait'));
    peer.send(cancelReq(1));
    peer.send(cancelReq(1));
    await flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(CancelledError);
    expect((seen[0] as CancelledError).reason).toBe('client');
    // The checker read ctx.signal when the call started: both carry the same error object.
    expect(context!.signal.aborted).toBe(true);
    expect(context!.signal.reason).toBe(seen[0]);
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'client' } } },
    ]);
    expect(h.supervisor.stats().lateAnswers).toBe(0);
    h.checker.assertHolds();
    await h.supervisor.close();
    h.checker.assertFinal();
    expect(h.checker.handlerOutcomes().cancelled).toBe(1);
  });

  it('settles every handler that listens with onCancel when the transport closes, none abandoned, nothing written', async () => {
    const supervisor = createSupervisor({ methods: { wait: rejectOnCancel } });
    const { transport, peer } = createMemoryTransportPair();
    const session = supervisor.attach(transport);
    for (let id = 1; id <= 50; id += 1) peer.send(req(id, 'wait'));
    expect(session.inFlight).toBe(50);
    peer.vanish();
    const info = await session.closed;
    const stats = supervisor.stats();
    expect(info.reason).toBe('transport-closed');
    expect(stats.cancelled['transport-closed']).toBe(50);
    expect(stats.cancelling).toBe(0);
    expect(stats.abandoned).toBe(0);
    expect(transport.writesAfterClose).toBe(0);
    expect(peer.received).toEqual([]);
    await supervisor.close();
  });

  it('gives every handler cancelled by one close the same CancelledError, and each client cancel its own', async () => {
    const reasons = new Map<unknown, CancelledError>();
    const supervisor = createSupervisor({
      methods: {
        wait: (_params: unknown, ctx: RequestContext) =>
          new Promise((_, reject) =>
            ctx.onCancel((reason) => {
              reasons.set(ctx.requestId, reason);
              reject(reason);
            }),
          ),
      },
    });
    const { transport, peer } = createMemoryTransportPair();
    const session = supervisor.attach(transport);
    for (let id = 1; id <= 4; id += 1) peer.send(req(id, 'wait'));
    peer.send(cancelReq(1));
    peer.send(cancelReq(2));
    peer.vanish();
    await session.closed;
    expect(reasons.get(1)!.reason).toBe('client');
    expect(reasons.get(2)!.reason).toBe('client');
    expect(reasons.get(1)).not.toBe(reasons.get(2));
    expect(reasons.get(3)!.reason).toBe('transport-closed');
    expect(reasons.get(3)).toBe(reasons.get(4));
    await supervisor.close();
  });

  it('runs a listener added after the cancel at once, with the same reason', async () => {
    const late: CancelledError[] = [];
    let context: RequestContext | undefined;
    const supervisor = createSupervisor({
      methods: {
        wait: (_params: unknown, ctx: RequestContext) => {
          context = ctx;
          return new Promise(() => {});
        },
      },
      limits: { cancelGraceMs: 5 },
    });
    const { transport, peer } = createMemoryTransportPair();
    const session = supervisor.attach(transport);
    peer.send(req(1, 'wait'));
    session.close('shutdown');
    const remove = context!.onCancel((reason) => late.push(reason));
    expect(late).toHaveLength(1);
    expect(late[0]!.reason).toBe('shutdown');
    // A signal read only now is already aborted, with the same error object.
    expect(context!.signal.aborted).toBe(true);
    expect(context!.signal.reason).toBe(late[0]);
    remove();
    await session.closed;
    expect(supervisor.stats().abandoned).toBe(1);
    await supervisor.close();
  });

  it('does not call a listener that was removed, and still calls the others in order', async () => {
    const order: string[] = [];
    const supervisor = createSupervisor({
      methods: {
        wait: (_params: unknown, ctx: RequestContext) =>
          new Promise((_, reject) => {
            ctx.onCancel(() => order.push('a'));
            const removeB = ctx.onCancel(() => order.push('b'));
            ctx.onCancel((reason) => {
              order.push('c');
              reject(reason);
            });
            removeB();
            removeB();
          }),
      },
    });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send(req(1, 'wait'));
    peer.send(cancelReq(1));
    await flush();
    expect(order).toEqual(['a', 'c']);
    await supervisor.close();
  });

  it('skips a listener that an earlier listener or a signal listener removed during the cancel', async () => {
    const order: string[] = [];
    const supervisor = createSupervisor({
      methods: {
        wait: (_params: unknown, ctx: RequestContext) =>
          new Promise((_, reject) => {
            let removeC = (): void => {};
            const removeD = ctx.onCancel(() => order.push('d'));
            ctx.signal.addEventListener('abort', () => {
              order.push('signal');
              removeD();
            });
            ctx.onCancel(() => {
              order.push('a');
              removeC();
              ctx.onCancel(() => order.push('added during the cancel'));
            });
            ctx.onCancel((reason) => {
              order.push('b');
              reject(reason);
            });
            removeC = ctx.onCancel(() => order.push('c'));
          }),
      },
    });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send(req(1, 'wait'));
    peer.send(cancelReq(1));
    await flush();
    expect(order).toEqual(['signal', 'a', 'added during the cancel', 'b']);
    await supervisor.close();
  });

  it('logs a listener that throws, runs the rest, and the session goes on', async () => {
    const h = createCheckedSupervisor({
      methods: {
        wait: (_params: unknown, ctx: RequestContext) =>
          new Promise((_, reject) => {
            ctx.onCancel(() => {
              throw new Error('listener bug');
            });
            ctx.onCancel(reject);
          }),
        echo: (params: unknown) => params,
      },
    });
    const { peer, session } = h.connect();
    peer.send(req(1, 'wait'));
    peer.send(cancelReq(1));
    await flush();
    peer.send({ jsonrpc: '2.0', id: 2, method: 'echo', params: [2] });
    expect(session.state).toBe('connected');
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'client' } } },
      { jsonrpc: '2.0', id: 2, result: [2] },
    ]);
    const warning = h.checker.logs.find((line) => line.msg === 'cancel listener threw');
    expect(warning).toMatchObject({ level: 'warn', obj: { sessionId: session.id, requestId: 1, method: 'wait' } });
    expect((warning!.obj as { err: Error }).err.message).toBe('listener bug');
    h.checker.assertHolds();
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('never calls a listener of a request that finished', async () => {
    let calls = 0;
    let context: RequestContext | undefined;
    const supervisor = createSupervisor({
      methods: {
        quick: (_params: unknown, ctx: RequestContext) => {
          context = ctx;
          ctx.onCancel(() => {
            calls += 1;
          });
          return 'done';
        },
      },
    });
    const { transport, peer } = createMemoryTransportPair();
    const session = supervisor.attach(transport);
    peer.send(req(1, 'quick'));
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: 'done' }]);
    peer.send(cancelReq(1));
    session.close('shutdown');
    await session.closed;
    expect(calls).toBe(0);
    expect(context!.signal.aborted).toBe(false);
    await supervisor.close();
  });
});
