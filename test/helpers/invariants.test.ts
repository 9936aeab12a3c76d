import { describe, expect, it } from 'vitest';
import { encodeResult } from '../../src/jsonrpc/codec.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import { controlledMethod, flush } from './deferred.js';
import { createCheckedSupervisor } from './invariants.js';

const quietDialect: Dialect = {
  ...jsonRpcDialect,
  name: 'quiet',
  responseOnCancel: (reason) => (reason === 'client' ? undefined : jsonRpcDialect.responseOnCancel(reason)),
};

describe('the invariant checker catches what it promises to', () => {
  it('finds nothing in a clean run', async () => {
    const h = createCheckedSupervisor({ methods: { echo: (p) => p } });
    const { peer } = h.connect();
    peer.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] });
    expect(h.checker.violations()).toEqual([]);
    await h.supervisor.close();
    expect(h.checker.finalViolations()).toEqual([]);
  });

  it('invariant 1: a write after the output closed', async () => {
    const h = createCheckedSupervisor();
    const { transport, peer } = h.connect();
    peer.vanish();
    transport.send('{"jsonrpc":"2.0","method":"late"}');
    expect(h.checker.violations()).toEqual(['inv1: peer1: 1 write(s) after close']);
    await h.supervisor.close();
  });

  it('invariant 3: a response no open request had, and a second response for one request', async () => {
    const h = createCheckedSupervisor({ methods: { echo: (p) => p } });
    const { transport, peer } = h.connect();
    transport.send(encodeResult(9, 'unasked'));
    peer.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] });
    transport.send(encodeResult(1, 'again'));
    expect(h.checker.violations()).toEqual([
      'inv3: peer1: a response for id 9 that no open request had',
      'inv3: peer1: a response for id 1 that no open request had',
    ]);
    await h.supervisor.close();
  });

  it('invariant 3: a response after a client cancel where the dialect forbids one', async () => {
    const slow = controlledMethod();
    const h = createCheckedSupervisor({ methods: { slow: slow.handler }, dialect: quietDialect });
    const { transport, peer } = h.connect();
    peer.send({ jsonrpc: '2.0', id: 1, method: 'slow' });
    peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } });
    expect(h.checker.violations()).toEqual([]);
    transport.send(encodeResult(1, 'forbidden'));
    expect(h.checker.violations()).toEqual([
      'inv3: peer1: a response for id 1 after the client cancelled it (the dialect forbids it)',
    ]);
    slow.resolveAll();
    await flush();
    await h.supervisor.close();
  });

  it('invariant 4: a session failure nobody expected', async () => {
    const h = createCheckedSupervisor();
    const { peer, session } = h.connect({ failOnClose: true });
    peer.vanish();
    await session.closed;
    expect(h.checker.violations()).toContain('inv4: 1 unexpected session failure(s)');
    await h.supervisor.close();
  });

  it('invariants 2 and 5: before the close, handlers unsettled, actors live, timers pending', async () => {
    const slow = controlledMethod();
    const h = createCheckedSupervisor({ methods: { slow: slow.handler }, limits: { requestTimeoutMs: 1000 } });
    const { peer, session } = h.connect();
    peer.send({ jsonrpc: '2.0', id: 1, method: 'slow' });
    const found = h.checker.finalViolations();
    expect(found).toContain('inv2: handler request:1 settled 0 times');
    expect(found).toContain('inv2: requests 1 ≠ completed 0 + failed 0 + cancelled 0');
    expect(found).toContain(`inv5: connection actor ${session.id} is still active`);
    expect(found).toContain('inv5: handler actor request:1 is still active');
    expect(found).toContain('inv5: 1 session(s) still open');
    expect(found).toContain('inv5: 1 timer(s) pending');
    slow.resolveAll();
    await flush();
    await h.supervisor.close();
    expect(h.checker.finalViolations()).toEqual([]);
  });
});
