import { describe, expect, it } from 'vitest';
import { JsonRpcError, SupervisorError } from '../../src/jsonrpc/errors.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import { flush } from '../helpers/deferred.js';
import { createCheckedSupervisor } from '../helpers/invariants.js';

const req = (id: unknown, method: string, params?: unknown) =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('Session: requests to the peer', () => {
  it('resolves with the peer result', async () => {
    const h = createCheckedSupervisor();
    const { peer, session } = h.connect();
    const answer = session.request('roots/list', { cursor: null });
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, method: 'roots/list', params: { cursor: null } }]);
    peer.send({ jsonrpc: '2.0', id: 1, result: { roots: [] } });
    await expect(answer).resolves.toEqual({ roots: [] });
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('rejects with a JsonRpcError carrying the peer error', async () => {
    const h = createCheckedSupervisor();
    const { peer, session } = h.connect();
    const answer = session.request('ping');
    peer.send({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found', data: 'ping' } });
    const error = await rejection(answer);
    expect(error).toBeInstanceOf(JsonRpcError);
    expect((error as JsonRpcError).toJSON()).toEqual({ code: -32601, message: 'Method not found', data: 'ping' });
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('rejects with ERR_REQUEST_TIMEOUT after timeoutMs on the test clock; a late answer is ignored', async () => {
    const h = createCheckedSupervisor();
    const { peer, session } = h.connect();
    const answer = session.request('ping', undefined, { timeoutMs: 200 });
    h.clock.advance(200);
    const error = await rejection(answer);
    expect(error).toBeInstanceOf(SupervisorError);
    expect((error as SupervisorError).code).toBe('ERR_REQUEST_TIMEOUT');
    peer.send({ jsonrpc: '2.0', id: 1, result: 'late' });
    expect(session.state).toBe('connected');
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('rejects with ERR_SESSION_CLOSED when the session closes first, and leaves no timer behind', async () => {
    const h = createCheckedSupervisor();
    const { peer, session } = h.connect();
    const answer = session.request('ping');
    expect(h.clock.pending).toBe(1);
    peer.vanish();
    const error = await rejection(answer);
    expect((error as SupervisorError).code).toBe('ERR_SESSION_CLOSED');
    expect(h.clock.pending).toBe(0);
    await expect(session.request('ping')).rejects.toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});

describe('Session: notifications and backpressure', () => {
  it('notifies the peer while connected and draining, and reports false once closed', async () => {
    const h = createCheckedSupervisor();
    const { peer, session } = h.connect();
    expect(session.notify('log', { line: 1 })).toBe(true);
    session.close();
    expect(session.notify('log', { line: 2 })).toBe(false);
    expect(peer.received).toEqual([{ jsonrpc: '2.0', method: 'log', params: { line: 1 } }]);
    expect(h.supervisor.stats().blockedSends).toBe(1);
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('refuses new requests with -32002 while the transport reports high pressure, and admits them again after', async () => {
    const h = createCheckedSupervisor({ methods: { echo: (p) => p } });
    const { peer, session } = h.connect();
    session.onPressure('high');
    peer.send(req(1, 'echo', [1]));
    session.onPressure('normal');
    peer.send(req(2, 'echo', [2]));
    await flush();
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32002, message: 'Server overloaded', data: { maxInFlight: 1024 } } },
      { jsonrpc: '2.0', id: 2, result: [2] },
    ]);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});

describe('createSupervisor: limits', () => {
  it.each([
    [{ drainTimeoutMs: -1 }],
    [{ cancelGraceMs: Number.NaN }],
    [{ maxInFlight: 0 }],
    [{ maxMessageBytes: '1' as unknown as number }],
  ])('refuses %j with ERR_INVALID_OPTION', (limits) => {
    expect(() => createCheckedSupervisor({ limits })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('keeps the defaults for what is not set', () => {
    const { supervisor } = createCheckedSupervisor({ limits: { drainTimeoutMs: 5 } });
    expect(supervisor.limits).toEqual({
      maxInFlight: 1024,
      requestTimeoutMs: 0,
      drainTimeoutMs: 5,
      cancelGraceMs: 2000,
      maxMessageBytes: 4 * 1024 * 1024,
      maxSessionFailures: 5,
      failureWindowMs: 60_000,
    });
  });
});

describe('createSupervisor: attach', () => {
  it('refuses a second attach of one transport with ERR_TRANSPORT_IN_USE, a frozen transport object too', async () => {
    const { supervisor } = createCheckedSupervisor();
    const { transport } = createMemoryTransportPair();
    supervisor.attach(transport);
    expect(() => supervisor.attach(transport)).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT_IN_USE' }));
    const frozen = Object.freeze(createMemoryTransportPair().transport);
    supervisor.attach(frozen);
    expect(() => supervisor.attach(frozen)).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT_IN_USE' }));
    await supervisor.close();
  });
});

describe('Session: locals', () => {
  it('reads a local without making the storage, and readLocal works on any SessionHandle', async () => {
    const { readLocal } = await import('../../src/index.js');
    const h = createCheckedSupervisor();
    const { session } = h.connect();
    expect(session.peekLocal('k')).toBeUndefined();
    expect(readLocal(session, 'k')).toBeUndefined();
    session.locals.set('k', 1);
    expect(session.peekLocal('k')).toBe(1);
    expect(readLocal(session, 'k')).toBe(1);
    const plain = { id: 'p', transportKind: 'memory', state: 'connected' as const, locals: new Map<string, unknown>([['k', 2]]), notify: () => true };
    expect(readLocal(plain, 'k')).toBe(2);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});
