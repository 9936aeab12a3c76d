// A session whose actor fails reaches the supervisor machine as `xstate.error.actor.<session id>`;
// xstate memoizes transition candidates per event type on every state node, forever, so each failed
// session left a cache entry behind (≈ 400 bytes each; 10 000 failures ≈ 4.5 MB).
import { describe, expect, it } from 'vitest';
import { createMemoryTransportPair, createSupervisor } from '../../src/index.js';
import { heapAfterGc } from '../helpers/heap.js';

describe('failed sessions leave nothing behind', () => {
  it('keeps the heap flat over 10 000 sessions whose actor failed', async () => {
    const supervisor = createSupervisor({ limits: { maxSessionFailures: 1_000_000, failureWindowMs: 1 } });
    let failures = 0;
    supervisor.on('session.failed', () => {
      failures += 1;
    });
    const run = (count: number): void => {
      for (let i = 0; i < count; i++) {
        // The close seam throws inside the connection actor's final step: the actor fails.
        const { transport, peer } = createMemoryTransportPair({ failOnClose: true });
        supervisor.attach(transport);
        peer.endInput();
      }
    };
    run(1_000);
    const before = await heapAfterGc();
    run(10_000);
    const after = await heapAfterGc();
    expect(failures).toBe(11_000);
    expect(supervisor.sessions()).toHaveLength(0);
    expect(after - before).toBeLessThan(1_000_000);
  });
});
