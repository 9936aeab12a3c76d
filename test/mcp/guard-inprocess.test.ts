import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestClock } from '../../src/index.js';
import { guardTransport } from '../../src/mcp/index.js';
import { waitOrAbort } from '../fixtures/wait-or-abort.js';

// The guard around a transport that is not stdio: the SDK's in-memory pair, with a raw peer on the
// client side so every frame the server writes is visible.

function sdkServer(seen: { aborted: Array<{ id: unknown; reason: unknown }> }) {
  const server = new McpServer({ name: 'inproc', version: '1.0.0' });
  server.registerTool('wait', { inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    await waitOrAbort(ms, extra.signal, () => seen.aborted.push({ id: extra.requestId, reason: extra.signal.reason }));
    return { content: [{ type: 'text', text: 'done' }] };
  });
  return server;
}

async function setup(clock = createTestClock()) {
  const seen = { aborted: [] as Array<{ id: unknown; reason: unknown }> };
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const received: any[] = [];
  clientSide.onmessage = (message) => received.push(message);
  await clientSide.start();
  const guarded = guardTransport(serverSide, { drainTimeoutMs: 100, clock });
  const server = sdkServer(seen);
  await server.connect(guarded);
  const send = (m: unknown) => clientSide.send(m as never);
  await send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '0' } } });
  await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await new Promise((resolve) => setImmediate(resolve));
  received.length = 0;
  return { seen, received, guarded, server, send, clock };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const call = (id: number, ms: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'wait', arguments: { ms } } });

describe('guardTransport around a non-stdio SDK transport', () => {
  it('server.close() answers the requests in flight with -32800 (shutdown) and aborts their signals with that reason', async () => {
    const { seen, received, guarded, server, send } = await setup();
    await send(call(2, 60_000));
    await flush();
    await server.close();
    await guarded.closed;
    expect(received).toEqual([{ jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled', data: { reason: 'shutdown' } } }]);
    expect(seen.aborted).toEqual([{ id: 2, reason: 'shutdown' }]);
    expect(guarded.stats()).toMatchObject({ state: 'closed', inFlight: 0, cancelled: { shutdown: 1 }, closeReason: 'shutdown' });
  });

  it('refuses a duplicate in-flight request id with -32003 instead of letting the SDK cross-wire them', async () => {
    const { received, guarded, send } = await setup();
    await send(call(2, 60_000));
    await send(call(2, 1));
    await flush();
    expect(received).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32003, message: 'Duplicate request id', data: { id: 2 } } }]);
    expect(guarded.stats()).toMatchObject({ inFlight: 1, requests: 2 });
    await guarded.close();
  });

  it('drains by hand: new requests get -32000, the deadline cancels the rest with drain-timeout', async () => {
    const { seen, received, guarded, send, clock } = await setup();
    await send(call(2, 60_000));
    await flush();
    guarded.drain();
    await send(call(3, 1));
    await flush();
    expect(received).toEqual([{ jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'Session is draining', data: { state: 'draining', retryAfterMs: 1000 } } }]);
    clock.advance(100);
    await guarded.closed;
    expect(received.at(-1)).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled', data: { reason: 'drain-timeout' } } });
    expect(seen.aborted).toEqual([{ id: 2, reason: 'drain-timeout' }]);
    expect(clock.pending).toBe(0);
  });

  it('answers a new request that reuses a cancelled id, and sends nothing for the cancelled one', async () => {
    const { seen, received, guarded, send } = await setup();
    await send(call(2, 60_000));
    await flush();
    await send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'user' } });
    await flush();
    expect(seen.aborted).toEqual([{ id: 2, reason: 'user' }]);
    await send(call(2, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toEqual([{ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'done' }] } }]);
    expect(guarded.stats()).toMatchObject({ inFlight: 0, completed: 2, blockedSends: 0, cancelled: { client: 1 } });
    await guarded.close();
  });

  it('blocks and counts what the SDK sends after the close, without throwing', async () => {
    const { guarded, received } = await setup();
    await guarded.close();
    await expect(guarded.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'late' } })).resolves.toBeUndefined();
    expect(received).toEqual([]);
    expect(guarded.stats().blockedSends).toBe(1);
  });

  it('a throw from the SDK server on an inbound message is reported through onerror, not thrown into the transport', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await clientSide.start();
    const guarded = guardTransport(serverSide);
    const errors: string[] = [];
    guarded.onmessage = () => {
      throw new Error('bug in a handler table');
    };
    guarded.onerror = (error) => errors.push(error.message);
    await guarded.start();
    await expect(clientSide.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).resolves.toBeUndefined();
    expect(errors).toEqual(['bug in a handler table']);
    expect(guarded.stats()).toMatchObject({ state: 'connected', inFlight: 1 });
    await guarded.close();
    // The close delivers the cancel of request 1 to the same throwing server: reported, and the session still closes.
    expect(errors).toEqual(['bug in a handler table', 'bug in a handler table']);
    expect(guarded.stats()).toMatchObject({ state: 'closed', inFlight: 0, cancelled: { shutdown: 1 }, closeReason: 'shutdown' });
  });
});
