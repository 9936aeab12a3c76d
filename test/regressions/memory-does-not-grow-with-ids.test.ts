// xstate memoizes transition candidates per event type on every state node, forever. A child actor
// that finishes sends `xstate.done.actor.<its id>` to its parent, so a parent machine that sees a new
// child id per session (`s1`, `s2`, …) or per request (`request:<client id>`) kept one cache entry per
// id: memory grew with every session ever attached and with every distinct request id a client chose.
// Found by the chaos suite's leak check (heap after GC kept growing, heap snapshots showed
// `candidates-xstate.done.actor.s1207` on the supervisor's state nodes).
import { describe, expect, it } from 'vitest';
import { createMemoryTransportPair, createSupervisor } from '../../src/index.js';
import { heapAfterGc } from '../helpers/heap.js';

const N = 20_000;

describe('memory does not grow with ids', () => {
  it('keeps the heap flat over 20 000 sessions attached and closed', async () => {
    const supervisor = createSupervisor({ methods: { ping: () => ({}) } });
    const run = (from: number, count: number): void => {
      for (let i = from; i < from + count; i++) {
        const { transport, peer } = createMemoryTransportPair();
        supervisor.attach(transport);
        peer.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
        peer.vanish();
      }
    };
    run(0, 2_000); // warm: every code path compiled, every pooled structure at its size
    const before = await heapAfterGc();
    run(2_000, N);
    const after = await heapAfterGc();
    expect(supervisor.sessions()).toHaveLength(0);
    // One cache entry per session is ≥ 100 bytes: 20 000 sessions would add ≥ 2 MB.
    expect(after - before).toBeLessThan(1_000_000);
    await supervisor.close();
  });

  it('keeps the heap flat over 20 000 distinct request ids in one session', async () => {
    const supervisor = createSupervisor({ methods: { ping: () => ({}) } });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    let answered = 0;
    peer.onMessage(() => {
      answered += 1;
    });
    const run = (from: number, count: number): void => {
      for (let i = from; i < from + count; i++) peer.send({ jsonrpc: '2.0', id: `request-${i}-of-a-client-that-never-reuses-ids`, method: 'ping' });
    };
    // The memory peer keeps every message it received: drop them, only the server's heap counts.
    const received = peer.received as unknown[];
    run(0, 2_000);
    received.length = 0;
    const before = await heapAfterGc();
    run(2_000, N);
    received.length = 0;
    const after = await heapAfterGc();
    expect(answered).toBe(N + 2_000);
    expect(after - before).toBeLessThan(1_000_000);
    peer.endInput();
    await supervisor.close();
  });
});
