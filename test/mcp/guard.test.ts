import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnLineChild, type LineChild } from './child.js';

// Each test runs the same official-SDK server twice, unguarded and guarded, and shows the difference.
const FIXTURE = ['--import', 'tsx', 'test/fixtures/mcp-sdk-server.ts'];

async function startSdkServer(guard: boolean): Promise<LineChild> {
  const server = spawnLineChild(FIXTURE, { MCP_GUARD: guard ? '1' : '0', MCP_DRAIN_MS: '300' });
  server.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
  await server.waitFor('out', (m) => m.id === 1);
  server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return server;
}

const call = (id: number, name: string, ms: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { ms } } });

afterEach(() => killAll());

describe('guardTransport on an official-SDK stdio server', () => {
  it('client closes stdin mid-call: unguarded the signal never aborts and the process lingers; guarded it drains, aborts and exits 0', async () => {
    const [bare, guarded] = await Promise.all([startSdkServer(false), startSdkServer(true)]);
    for (const server of [bare, guarded]) {
      server.send(call(2, 'slow', 60_000));
      await server.waitFor('events', (e) => e.event === 'started' && e.id === 2);
      server.child.stdin.end();
    }
    // Guarded: a bounded drain (300 ms), then the handler's signal aborts with the reason and the process exits by itself.
    const aborted = await guarded.waitFor('events', (e) => e.event === 'aborted' && e.id === 2);
    expect(aborted.reason).toBe('drain-timeout');
    expect(await guarded.exited).toEqual({ code: 0, signal: null });
    expect(guarded.out).toContainEqual({ jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled', data: { reason: 'drain-timeout' } } });
    const closed = await guarded.waitFor('events', (e) => e.event === 'guard-closed');
    expect(closed.stats).toMatchObject({ state: 'closed', inFlight: 0, closeReason: 'drain-timeout', cancelled: { 'drain-timeout': 1 } });
    // Unguarded, at the same moment: the handler was never told, and the process is still there.
    expect(bare.events.some((e) => e.event === 'aborted')).toBe(false);
    expect(bare.child.exitCode).toBeNull();
  });

  it('reader killed: unguarded the late write crashes with EPIPE (exit 1); guarded EPIPE is caught, the other call is cancelled, exit 0', async () => {
    const [bare, guarded] = await Promise.all([startSdkServer(false), startSdkServer(true)]);
    for (const server of [bare, guarded]) {
      server.send(call(2, 'slow', 300));
      server.send(call(3, 'slow', 60_000));
      await server.waitFor('events', (e) => e.event === 'started' && e.id === 3);
      server.child.stdout.destroy();
    }
    const crashed = await bare.exited;
    expect(crashed.code).toBe(1);
    expect(bare.stderr).toMatch(/EPIPE/);
    // Guarded: the first answer hits EPIPE, the output is gone, call 3 is cancelled with transport-closed.
    const aborted = await guarded.waitFor('events', (e) => e.event === 'aborted' && e.id === 3);
    expect(aborted.reason).toBe('transport-closed');
    const closed = await guarded.waitFor('events', (e) => e.event === 'guard-closed');
    expect(closed.stats).toMatchObject({ closeReason: 'transport-closed', cancelled: { 'transport-closed': 1 } });
    expect(await guarded.exited).toEqual({ code: 0, signal: null });
    expect(guarded.stderr).not.toMatch(/EPIPE'|Unhandled 'error'/);
  });

  it('a result after close: unguarded a stubborn result goes out after the client closed; guarded the drain deadline answers it once and nothing follows', async () => {
    const [bare, guarded] = await Promise.all([startSdkServer(false), startSdkServer(true)]);
    for (const server of [bare, guarded]) {
      server.send(call(2, 'stubborn', 1000));
      await server.waitFor('events', (e) => e.event === 'started' && e.id === 2);
      server.child.stdin.end();
    }
    await Promise.all([bare.exited, guarded.exited]);
    expect(bare.out.filter((m) => m.id === 2)).toEqual([{ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'slept 1000 ms' }] } }]);
    expect(guarded.out.filter((m) => m.id === 2)).toEqual([
      { jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled', data: { reason: 'drain-timeout' } } },
    ]);
    // The guarded handler ran to its end with its signal aborted; its result never reached stdout.
    expect(guarded.events).toContainEqual({ event: 'finished', id: 2, aborted: true });
  });

  it('a client cancel of request id 0: unguarded the SDK ignores it and answers; guarded no answer goes out and the send is counted', async () => {
    const [bare, guarded] = await Promise.all([startSdkServer(false), startSdkServer(true)]);
    for (const server of [bare, guarded]) {
      server.send(call(0, 'stubborn', 200));
      await server.waitFor('events', (e) => e.event === 'started' && e.id === 0);
      server.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0, reason: 'user' } });
      server.send(call(4, 'slow', 250));
    }
    await Promise.all([bare.waitFor('out', (m) => m.id === 4), guarded.waitFor('out', (m) => m.id === 4)]);
    expect(bare.out.filter((m) => m.id === 0)).toHaveLength(1);
    expect(guarded.out.filter((m) => m.id === 0)).toEqual([]);
    guarded.child.stdin.end();
    const closed = await guarded.waitFor('events', (e) => e.event === 'guard-closed');
    expect(closed.stats, JSON.stringify(closed.stats)).toMatchObject({ blockedSends: 1, cancelled: { client: 1 }, closeReason: null });
    await sleep(0);
  });
});
