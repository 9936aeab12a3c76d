import { describe, expect, it } from 'vitest';
import { createSupervisor, createMemoryTransportPair, createTestClock } from '../src/index.js';

describe('smoke', () => {
  it('answers a request and drains on input end', async () => {
    const clock = createTestClock();
    const sup = createSupervisor({
      clock,
      methods: {
        echo: (p) => p,
        slow: (_p, ctx) =>
          new Promise((resolve, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
            setTimeout(() => resolve('late'), 5);
          }),
      },
    });
    const { transport, peer } = createMemoryTransportPair();
    const session = sup.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'slow' });
    peer.endInput();
    expect(session.state).toBe('draining');
    const info = await session.closed;
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, result: { a: 1 } },
      { jsonrpc: '2.0', id: 2, result: 'late' },
    ]);
    expect(info.reason).toBeNull();
    expect(transport.writesAfterClose).toBe(0);
    expect(clock.pending).toBe(0);
    await sup.drain();
    expect(sup.state).toBe('stopped');
  });
});
