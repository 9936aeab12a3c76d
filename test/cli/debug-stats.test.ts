import { describe, expect, it } from 'vitest';
import { createDebugStats, DEBUG_STATS_METHOD } from '../../src/cli/debug-stats.js';
import { createMemoryTransportPair, createSupervisor, type Supervisor } from '../../src/index.js';

describe('debug stats', () => {
  it('counts live actors up while requests run and back down to the supervisor alone when idle', async () => {
    const debug = createDebugStats();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const supervisor: Supervisor = createSupervisor({
      inspect: debug.inspect,
      methods: { wait: () => gate.then(() => 'done'), ...debug.methods(() => supervisor) },
    });
    const idle = await debug.report(supervisor);
    expect(idle.liveActors).toBe(1);
    const { transport, peer } = createMemoryTransportPair();
    const session = supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'wait' });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'wait' });
    const busy = await debug.report(supervisor);
    expect(busy.liveActors).toBe(4);
    expect(busy.stats.inFlight).toBe(2);
    release();
    peer.endInput();
    await session.closed;
    const after = await debug.report(supervisor);
    expect(after.liveActors).toBe(1);
    expect(after.gc).toBe(true);
    expect(after.retainedActors).toBeLessThanOrEqual(busy.retainedActors);
    expect(after.memory.heapUsed).toBeGreaterThan(0);
    expect(typeof after.resources).toBe('object');
    await supervisor.close();
  });

  it('answers $/stats over JSON-RPC with the report', async () => {
    const debug = createDebugStats();
    const supervisor: Supervisor = createSupervisor({ inspect: debug.inspect, methods: debug.methods(() => supervisor) });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 'stats', method: DEBUG_STATS_METHOD });
    await expect.poll(() => peer.received.length).toBe(1);
    const response = peer.received[0] as { id: string; result: { liveActors: number; stats: { sessions: { connected: number } } } };
    expect(response.id).toBe('stats');
    // The supervisor, the session, and the handler answering this very request.
    expect(response.result.liveActors).toBe(3);
    expect(response.result.stats.sessions.connected).toBe(1);
    await supervisor.close();
  });
});
