import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, JsonRpcError } from '../../src/jsonrpc/errors.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import { CancelledError, defineMethod, type MethodTable } from '../../src/runtime/methods.js';
import { createCheckedSupervisor, type CheckedSupervisorOptions } from '../helpers/invariants.js';
import { controlledMethod, flush, type ControlledMethod } from '../helpers/deferred.js';

const req = (id: unknown, method: string, params?: unknown) =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
const cancelReq = (id: unknown) => ({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id } });

/** A checked supervisor with `echo`, `slow` (ignores its signal) and `obedient` (rejects on abort). */
function setup(options: CheckedSupervisorOptions & { extra?: MethodTable } = {}) {
  const slow = controlledMethod();
  const obedient = controlledMethod({ obeySignal: true });
  const { extra, ...rest } = options;
  const h = createCheckedSupervisor({
    ...rest,
    methods: { echo: (p: unknown) => p, slow: slow.handler, obedient: obedient.handler, ...extra },
  });
  return { ...h, slow, obedient };
}

/** Close the supervisor, let abandoned handlers' grace pass, and check every invariant. */
async function finish(h: ReturnType<typeof setup>): Promise<void> {
  const closed = h.supervisor.close();
  h.clock.advance(h.supervisor.limits.cancelGraceMs);
  await closed;
  await flush();
  h.checker.assertFinal();
}

function release(...methods: ControlledMethod[]): void {
  for (const m of methods) m.resolveAll('late');
}

describe('invariants over the memory transport', () => {
  describe('connected', () => {
    it('answers a request once, with its id, and the checker finds nothing wrong', async () => {
      const h = setup();
      const { peer, session } = h.connect();
      peer.send(req(1, 'echo', { text: 'hi' }));
      expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: { text: 'hi' } }]);
      expect(session.state).toBe('connected');
      h.checker.assertHolds();
      await finish(h);
      expect(h.checker.handlerOutcomes().result).toBe(1);
    });

    it('answers id 0 with id 0, and cancels id 0', async () => {
      const h = setup();
      const { peer } = h.connect();
      peer.send(req(0, 'echo', [1]));
      peer.send(req(0, 'obedient'));
      peer.send(cancelReq(0));
      await flush();
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 0, result: [1] },
        { jsonrpc: '2.0', id: 0, error: { code: -32800, message: 'Request cancelled', data: { reason: 'client' } } },
      ]);
      expect(h.supervisor.stats().cancelled.client).toBe(1);
      await finish(h);
    });

    it('answers an unknown method with -32601 naming it', async () => {
      const h = setup();
      const { peer } = h.connect();
      peer.send(req('a', 'nope'));
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 'a', error: { code: -32601, message: 'Method not found', data: { method: 'nope' } } },
      ]);
      expect(h.supervisor.stats().refused).toBe(1);
      await finish(h);
    });

    it('answers params failing the schema with -32602 and a one-line summary; the handler never runs', async () => {
      let ran = 0;
      const h = setup({
        extra: {
          add: defineMethod({
            params: z.object({ a: z.number(), b: z.number() }),
            handler: ({ a, b }) => {
              ran += 1;
              return a + b;
            },
          }),
        },
      });
      const { peer } = h.connect();
      peer.send(req(1, 'add', { a: 1, b: 'two' }));
      peer.send(req(2, 'add', { a: 1, b: 2 }));
      const [bad, good] = peer.received as Array<{ error?: { code: number; message: string; data: unknown } }>;
      expect(bad?.error?.code).toBe(ErrorCode.InvalidParams);
      expect(bad?.error?.message).toBe('Invalid params');
      expect(bad?.error?.data).toMatch(/^b: /);
      expect(String(bad?.error?.data)).not.toContain('\n');
      expect(good).toEqual({ jsonrpc: '2.0', id: 2, result: 3 });
      expect(ran).toBe(1);
      await finish(h);
    });

    it('answers a throwing handler with -32603 and nothing of the error on the wire', async () => {
      const h = setup({
        extra: {
          boom: () => {
            throw new Error('secret detail at /srv/app.js:10');
          },
          boomAsync: async () => {
            throw new TypeError('async secret');
          },
        },
      });
      const { peer } = h.connect();
      peer.send(req(1, 'boom'));
      peer.send(req(2, 'boomAsync'));
      await flush();
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'Internal error' } },
        { jsonrpc: '2.0', id: 2, error: { code: -32603, message: 'Internal error' } },
      ]);
      expect(JSON.stringify(peer.received)).not.toMatch(/secret|stack|\.js:/);
      expect(h.supervisor.stats().failed).toBe(2);
      await finish(h);
    });

    it('passes a thrown JsonRpcError through as it is', async () => {
      const h = setup({
        extra: {
          refuse: () => {
            throw new JsonRpcError(-32050, 'quota exceeded', { retryAfter: 5 });
          },
        },
      });
      const { peer } = h.connect();
      peer.send(req(1, 'refuse'));
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 1, error: { code: -32050, message: 'quota exceeded', data: { retryAfter: 5 } } },
      ]);
      await finish(h);
    });

    it('answers a result JSON cannot encode (BigInt) with -32603', async () => {
      const h = setup({ extra: { big: () => ({ n: 2n ** 70n }) } });
      const { peer } = h.connect();
      peer.send(req(1, 'big'));
      expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'Internal error' } }]);
      await finish(h);
    });

    it('answers a duplicate id in flight with id null and -32003; the original is answered once', async () => {
      const h = setup();
      const { peer } = h.connect();
      peer.send(req(7, 'slow'));
      peer.send(req(7, 'echo', { x: 1 }));
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: null, error: { code: -32003, message: 'Duplicate request id', data: { id: 7 } } },
      ]);
      expect(h.slow.callCount).toBe(1);
      h.slow.resolve(7, 'first');
      await flush();
      expect(peer.received.slice(1)).toEqual([{ jsonrpc: '2.0', id: 7, result: 'first' }]);
      // Once the first has answered, the id may be used again.
      peer.send(req(7, 'echo', ['again']));
      expect(peer.received.slice(2)).toEqual([{ jsonrpc: '2.0', id: 7, result: ['again'] }]);
      h.checker.assertHolds();
      await finish(h);
    });

    it('refuses requests past maxInFlight with -32002 and admits again once one finishes', async () => {
      const h = setup({ limits: { maxInFlight: 2 } });
      const { peer } = h.connect();
      peer.send(req(1, 'slow'));
      peer.send(req(2, 'slow'));
      peer.send(req(3, 'slow'));
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 3, error: { code: -32002, message: 'Server overloaded', data: { maxInFlight: 2 } } },
      ]);
      h.slow.resolve(1, 'one');
      await flush();
      peer.send(req(4, 'echo', [4]));
      expect(peer.received.slice(1)).toEqual([
        { jsonrpc: '2.0', id: 1, result: 'one' },
        { jsonrpc: '2.0', id: 4, result: [4] },
      ]);
      release(h.slow);
      await flush();
      await finish(h);
    });

    it('cancels on $/cancelRequest: -32800, the signal aborts with reason client, the late answer is dropped', async () => {
      const h = setup();
      const { peer } = h.connect();
      peer.send(req(1, 'slow'));
      const ctx = h.slow.context(1);
      peer.send(cancelReq(1));
      expect(ctx.signal.aborted).toBe(true);
      expect((ctx.signal.reason as CancelledError).reason).toBe('client');
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'client' } } },
      ]);
      h.slow.resolve(1, 'too late');
      await flush();
      expect(peer.received).toHaveLength(1);
      expect(h.supervisor.stats().lateAnswers).toBe(1);
      h.checker.assertHolds();
      await finish(h);
      expect(h.checker.handlerOutcomes().cancelled).toBe(1);
    });

    it('ignores a cancel for an unknown or finished id, and a cancel without an id', async () => {
      const h = setup();
      const { peer } = h.connect();
      peer.send(req(1, 'echo', [1]));
      peer.send(cancelReq(1));
      peer.send(cancelReq(99));
      peer.send({ jsonrpc: '2.0', method: '$/cancelRequest' });
      peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: { nested: 1 } } });
      expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: [1] }]);
      expect(h.supervisor.stats().cancelled.client).toBe(0);
      await finish(h);
    });

    it('times a request out with -32001 on the test clock', async () => {
      const h = setup({ limits: { requestTimeoutMs: 1000 } });
      const { peer } = h.connect();
      peer.send(req(1, 'obedient'));
      h.clock.advance(999);
      expect(peer.received).toEqual([]);
      h.clock.advance(1);
      await flush();
      expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'Request timed out' } }]);
      expect(h.supervisor.stats().cancelled['request-timeout']).toBe(1);
      await finish(h);
    });
  });

  describe('bad input gets a specified answer', () => {
    it.each([
      ['invalid JSON', '{"jsonrpc":', { code: -32700, message: 'Parse error' }],
      ['a bare number', '42', { code: -32600, message: 'Invalid Request', data: 'A message must be a JSON object' }],
      ['an empty object', '{}', { code: -32600, message: 'Invalid Request', data: 'Not a JSON-RPC 2.0 message' }],
      ['a batch (refused by default)', '[{"jsonrpc":"2.0","id":1,"method":"echo"}]', {
        code: -32600,
        message: 'Invalid Request',
        data: 'Batches are not supported',
      }],
    ])('answers %s with id null', async (_name, frame, error) => {
      const h = setup();
      const { peer } = h.connect();
      peer.send(frame);
      expect(peer.received).toEqual([{ jsonrpc: '2.0', id: null, error }]);
      await finish(h);
    });

    it('answers invalid UTF-8 with -32700 and a too-large frame with -32004', async () => {
      const h = setup({ limits: { maxMessageBytes: 64 } });
      const { peer } = h.connect();
      peer.sendMalformed('invalid-utf8');
      peer.sendMalformed('too-large');
      peer.send(req(1, 'echo', { text: 'x'.repeat(100) }));
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error', data: 'invalid UTF-8' } },
        { jsonrpc: '2.0', id: null, error: { code: -32004, message: 'Message too large', data: { limit: 64 } } },
        { jsonrpc: '2.0', id: null, error: { code: -32004, message: 'Message too large', data: { limit: 64 } } },
      ]);
      await finish(h);
    });

    it('answers nothing to notifications (known, unknown, throwing) and to stray responses', async () => {
      const seen: unknown[] = [];
      const h = setup({
        notifications: {
          log: (p) => void seen.push(p),
          bad: () => {
            throw new Error('notification bug');
          },
          badAsync: async () => {
            throw new Error('async notification bug');
          },
        },
      });
      const { peer, session } = h.connect();
      peer.send({ jsonrpc: '2.0', method: 'log', params: { line: 1 } });
      peer.send({ jsonrpc: '2.0', method: 'unknown' });
      peer.send({ jsonrpc: '2.0', method: 'bad' });
      peer.send({ jsonrpc: '2.0', method: 'badAsync' });
      peer.send({ jsonrpc: '2.0', id: 5, result: 'nobody asked' });
      peer.send({ jsonrpc: '2.0', id: 'x', error: { code: 1, message: 'nobody asked' } });
      await flush();
      expect(seen).toEqual([{ line: 1 }]);
      expect(peer.received).toEqual([]);
      expect(session.state).toBe('connected');
      expect(h.checker.logs.filter((l) => l.msg === 'notification handler failed')).toHaveLength(2);
      await finish(h);
    });
  });

  describe('batches', () => {
    it('answers a batch as one array when the dialect enables batches', async () => {
      const dialect: Dialect = { ...jsonRpcDialect, name: 'batching', batches: true };
      const h = setup({ dialect });
      const { peer } = h.connect();
      peer.send([req(1, 'echo', ['a']), { jsonrpc: '2.0', method: 'log' }, 5, req(2, 'nope'), req(3, 'slow')]);
      expect(peer.received).toEqual([]);
      h.slow.resolve(3, 'c');
      await flush();
      expect(peer.received).toEqual([
        [
          { jsonrpc: '2.0', id: 1, result: ['a'] },
          { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request', data: 'A message must be a JSON object' } },
          { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found', data: { method: 'nope' } } },
          { jsonrpc: '2.0', id: 3, result: 'c' },
        ],
      ]);
      await finish(h);
    });

    it('writes nothing for a batch of notifications only, and refuses nested batches', async () => {
      const h = setup({ dialect: { ...jsonRpcDialect, name: 'batching', batches: true } });
      const { peer } = h.connect();
      peer.send([{ jsonrpc: '2.0', method: 'a' }, { jsonrpc: '2.0', method: 'b' }]);
      expect(peer.received).toEqual([]);
      peer.send([[req(1, 'echo')]]);
      expect(peer.received).toEqual([
        [{ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request', data: 'Batches are not supported' } }],
      ]);
      await finish(h);
    });
  });

  describe('draining', () => {
    it('refuses new requests with -32000 while draining, still writes in-flight answers, and closes when idle', async () => {
      const h = setup();
      const { peer, session } = h.connect();
      peer.send(req(1, 'slow'));
      session.drain();
      expect(session.state).toBe('draining');
      peer.send(req(2, 'echo'));
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'Session is draining', data: { state: 'draining', retryAfterMs: 1000 } } },
      ]);
      h.slow.resolve(1, 'done');
      const info = await session.closed;
      expect(peer.received.slice(1)).toEqual([{ jsonrpc: '2.0', id: 1, result: 'done' }]);
      expect(info).toEqual({ sessionId: session.id, reason: null, drainReason: 'shutdown', failed: false });
      expect(peer.closeIntent).toBe('normal');
      h.checker.assertHolds();
      await finish(h);
    });

    it('treats input ended as a half-close: the in-flight answer is still written, then the session closes', async () => {
      const h = setup();
      const { peer, session } = h.connect();
      peer.send(req(1, 'slow'));
      peer.endInput();
      expect(session.state).toBe('draining');
      h.slow.resolve(1, 'after EOF');
      const info = await session.closed;
      expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: 'after EOF' }]);
      expect(info).toEqual({ sessionId: session.id, reason: null, drainReason: 'input-ended', failed: false });
      await finish(h);
    });

    it('closes at once when input ends with nothing in flight', async () => {
      const h = setup();
      const { peer, session } = h.connect();
      peer.endInput();
      expect(session.state).toBe('closed');
      expect((await session.closed).reason).toBeNull();
      await finish(h);
    });

    it('cancels what is left at the drain deadline with drain-timeout, answering -32800 while the output works', async () => {
      const h = setup({ limits: { drainTimeoutMs: 500 } });
      const { peer, session } = h.connect();
      peer.send(req(1, 'obedient'));
      session.drain();
      h.clock.advance(499);
      expect(session.state).toBe('draining');
      h.clock.advance(1);
      const info = await session.closed;
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'drain-timeout' } } },
      ]);
      expect(info.reason).toBe('drain-timeout');
      expect(info.drainReason).toBe('shutdown');
      expect(peer.closeIntent).toBe('going-away');
      expect(h.supervisor.stats().cancelled['drain-timeout']).toBe(1);
      await finish(h);
    });

    it('abandons a handler that ignores its signal after cancelGraceMs and counts its late answer', async () => {
      const h = setup({ limits: { drainTimeoutMs: 100, cancelGraceMs: 50 } });
      const { peer, session } = h.connect();
      const abandoned: unknown[] = [];
      h.supervisor.on('handler.abandoned', (e) => abandoned.push(e));
      peer.send(req(1, 'slow'));
      peer.endInput();
      h.clock.advance(100);
      expect(session.state).toBe('closed');
      expect(h.supervisor.stats().cancelling).toBe(1);
      h.clock.advance(49);
      expect(abandoned).toEqual([]);
      h.clock.advance(1);
      expect(abandoned).toEqual([{ sessionId: session.id, requestId: 1, method: 'slow', reason: 'drain-timeout' }]);
      await session.closed;
      h.slow.resolve(1, 'very late');
      await flush();
      const stats = h.supervisor.stats();
      expect(stats.abandoned).toBe(1);
      expect(stats.lateAnswers).toBe(1);
      expect(peer.received).toHaveLength(1);
      await finish(h);
      expect(h.checker.handlerOutcomes().abandoned).toBe(1);
    });

    it('drains the whole supervisor: no new sessions, every session ends within drainTimeoutMs + cancelGraceMs', async () => {
      const h = setup({ limits: { drainTimeoutMs: 100, cancelGraceMs: 20 } });
      const a = h.connect();
      const b = h.connect();
      a.peer.send(req(1, 'slow'));
      b.peer.send(req(1, 'obedient'));
      const drained = h.supervisor.drain();
      expect(h.supervisor.accepting).toBe(false);
      expect(() => h.connect()).toThrow(expect.objectContaining({ code: 'ERR_NOT_ACCEPTING' }));
      h.clock.advance(120);
      await drained;
      expect(h.supervisor.state).toBe('stopped');
      h.checker.assertFinal();
    });
  });

  describe('closed', () => {
    it('cancels in-flight handlers with transport-closed when the peer vanishes, and writes nothing', async () => {
      const h = setup();
      const { peer, session, transport } = h.connect();
      peer.send(req(1, 'obedient'));
      peer.send(req(2, 'slow'));
      peer.vanish();
      expect(session.state).toBe('closed');
      h.clock.advance(h.supervisor.limits.cancelGraceMs);
      const info = await session.closed;
      expect(info.reason).toBe('transport-closed');
      expect(peer.received).toEqual([]);
      expect(transport.writesAfterClose).toBe(0);
      expect(h.supervisor.stats().cancelled['transport-closed']).toBe(2);
      await finish(h);
    });

    it('closes a session on request with shutdown: in-flight requests are answered -32800 first', async () => {
      const h = setup();
      const { peer, session } = h.connect();
      peer.send(req(1, 'obedient'));
      session.close();
      const info = await session.closed;
      expect(peer.received).toEqual([
        { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled', data: { reason: 'shutdown' } } },
      ]);
      expect(info.reason).toBe('shutdown');
      expect(peer.closeIntent).toBe('going-away');
      expect(session.notify('late', {})).toBe(false);
      expect(h.supervisor.stats().blockedSends).toBe(1);
      await finish(h);
    });
  });

  describe('session failure', () => {
    it('closes a failing session alone with reason session-failed; the other session keeps working', async () => {
      const h = setup({ expectSessionFailures: true });
      const bad = h.connect({ failOnClose: true });
      const good = h.connect();
      const failed: string[] = [];
      h.supervisor.on('session.failed', (e) => failed.push(e.sessionId));
      bad.peer.send(req(1, 'slow'));
      good.peer.send(req(1, 'slow'));
      bad.peer.endInput();
      h.slow.resolve(1, 'answered before the close', bad.session.id);
      await flush();
      const info = await bad.session.closed;
      expect(info).toMatchObject({ reason: 'session-failed', failed: true });
      expect(failed).toEqual([bad.session.id]);
      expect(bad.peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: 'answered before the close' }]);
      expect(h.supervisor.stats().sessionFailures).toBe(1);
      expect(h.supervisor.stats().healthy).toBe(true);
      // The other session never noticed.
      expect(good.session.state).toBe('connected');
      good.peer.send(req(2, 'echo', ['still here']));
      expect(good.peer.received).toEqual([{ jsonrpc: '2.0', id: 2, result: ['still here'] }]);
      expect(h.slow.isWaiting(1, good.session.id)).toBe(true);
      release(h.slow);
      await flush();
      await finish(h);
    });

    it('cancels handlers with session-failed when a dialect hook throws, and closes with internal-error', async () => {
      const dialect: Dialect = {
        ...jsonRpcDialect,
        name: 'buggy',
        admit: (request) => {
          if (request.method === 'explode') throw new Error('dialect bug');
          return undefined;
        },
      };
      const h = setup({ dialect, expectSessionFailures: true, extra: { explode: () => 'never runs' } });
      const { peer, session } = h.connect();
      const other = h.connect();
      peer.send(req(1, 'obedient'));
      peer.send(req(2, 'explode'));
      const info = await session.closed;
      expect(info).toMatchObject({ reason: 'session-failed', failed: true });
      expect(peer.received).toEqual([]);
      expect(peer.closeIntent).toBe('internal-error');
      expect(h.supervisor.stats().cancelled['session-failed']).toBe(1);
      expect(h.supervisor.stats().sessionFailures).toBe(1);
      other.peer.send(req(1, 'echo', [1]));
      expect(other.peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: [1] }]);
      await finish(h);
    });

    it('marks the supervisor unhealthy past maxSessionFailures within failureWindowMs, and healthy once they age out', async () => {
      const h = setup({ expectSessionFailures: true, limits: { maxSessionFailures: 1, failureWindowMs: 1000 } });
      const changes: boolean[] = [];
      h.supervisor.on('health.changed', (e) => changes.push(e.healthy));
      for (let i = 0; i < 2; i += 1) {
        const { peer, session } = h.connect({ failOnClose: true });
        peer.vanish();
        await session.closed;
      }
      let stats = h.supervisor.stats();
      expect(stats.sessionFailures).toBe(2);
      expect(stats.failuresInWindow).toBe(2);
      expect(stats.healthy).toBe(false);
      expect(changes).toEqual([false]);
      h.clock.advance(1001);
      stats = h.supervisor.stats();
      expect(stats.healthy).toBe(true);
      expect(stats.failuresInWindow).toBe(0);
      expect(changes).toEqual([false, true]);
      await finish(h);
    });
  });
});
