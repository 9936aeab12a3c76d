// Found by the long codec fuzz run: a request whose params carry a member named `__proto__` does not
// round-trip (the member is dropped). That is the safe outcome: the member must never become the
// params object's prototype, or `params.isAdmin` would read true from `{"__proto__":{"isAdmin":true}}`.
import { describe, expect, it } from 'vitest';
import { createMemoryTransportPair, createSupervisor } from '../../src/index.js';
import { decodeFrame } from '../../src/jsonrpc/index.js';

const FRAME = '{"jsonrpc":"2.0","id":1,"method":"whoami","params":{"__proto__":{"isAdmin":true},"name":"eve"}}';

describe('a __proto__ member of params', () => {
  it('is dropped by the codec and never becomes the prototype', () => {
    const decoded = decodeFrame(FRAME);
    expect(decoded.kind).toBe('request');
    const params = (decoded as { message: { params: Record<string, unknown> } }).message.params;
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(params['isAdmin']).toBeUndefined();
    expect(params).toEqual({ name: 'eve' });
  });

  it('reaches a handler as plain data', async () => {
    const supervisor = createSupervisor({
      methods: { whoami: (p: { isAdmin?: unknown; name?: unknown }) => ({ admin: p.isAdmin === true, name: p.name }) },
    });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send(FRAME);
    await expect.poll(() => peer.received.length).toBe(1);
    expect(peer.received[0]).toEqual({ jsonrpc: '2.0', id: 1, result: { admin: false, name: 'eve' } });
    await supervisor.close();
  });
});
