import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
    expect(after.heapObjects).toBeGreaterThan(0);
    expect(after.heapObjects).toBeLessThanOrEqual(after.memory.heapUsed);
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

  it('counts a write offered to a transport after its output closed', async () => {
    const debug = createDebugStats();
    const supervisor: Supervisor = createSupervisor({ inspect: debug.inspect, methods: { echo: (p) => p } });
    debug.watch(supervisor);
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.vanish();
    expect((await debug.report(supervisor)).writesAfterClose).toBe(0);
    transport.send('{"jsonrpc":"2.0","method":"late"}');
    expect((await debug.report(supervisor)).writesAfterClose).toBe(1);
    await supervisor.close();
  });

  it('prints one debug-stats line on stderr when the process exits', () => {
    const fixture = fileURLToPath(new URL('./fixtures/debug-stats-exit.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture], { encoding: 'utf8', timeout: 20_000 });
    expect(child.status).toBe(0);
    const line = child.stderr.split('\n').find((l) => l.startsWith('debug-stats '));
    expect(line).toBeDefined();
    const report = JSON.parse(line!.slice('debug-stats '.length)) as { liveActors: number; writesAfterClose: number; stats: { requests: number } };
    expect(report).toMatchObject({ liveActors: 1, writesAfterClose: 1, stats: { requests: 1 } });
  });
});
