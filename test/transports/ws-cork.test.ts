import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createSupervisor } from '../../src/index.js';
import { listenWebSocket, type WebSocketListener } from '../../src/transports/ws.js';
import { createResolvedWebSocketTransport } from '../../src/transports/ws/transport.js';
import { resolveTransportOptions } from '../../src/transports/ws/options.js';
import type { TransportSink } from '../../src/index.js';

const sink: TransportSink = { onFrame() {}, onMalformed() {}, onInputEnded() {}, onClosed() {} };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A real server-side WebSocket on 127.0.0.1 and a client; `calls` records cork/uncork on the TCP socket. */
async function pair(highWaterMark?: number) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const [server, request] = (await once(wss, 'connection')) as [WebSocket, { socket: import('node:net').Socket }];
  await once(client, 'open');
  const calls: string[] = [];
  const stream = {
    cork: () => {
      calls.push('cork');
      request.socket.cork();
    },
    uncork: () => {
      calls.push('uncork');
      request.socket.uncork();
    },
  };
  const transport = createResolvedWebSocketTransport(server, resolveTransportOptions(highWaterMark === undefined ? {} : { highWaterMark }), stream);
  transport.start(sink);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  cleanups.push(async () => {
    client.terminate();
    server.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return { transport, calls, received };
}

describe('WebSocket transport batching', () => {
  it('corks once for the frames of one tick, uncorks at nextTick, and delivers them in order', async () => {
    const { transport, calls, received } = await pair();
    transport.send('{"n":1}');
    transport.send('{"n":2}');
    transport.send('{"n":3}');
    expect(calls).toEqual(['cork']);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(calls).toEqual(['cork', 'uncork']);
    for (let turn = 0; turn < 200 && received.length < 3; turn += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('flushes at once when the corked bytes reach the limit, so they never read as backpressure', async () => {
    const { transport, calls } = await pair(64 * 1024);
    transport.send(JSON.stringify({ big: 'x'.repeat(20 * 1024) }));
    expect(calls).toEqual(['cork', 'uncork']);
    expect(transport.underPressure).toBe(false);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(calls).toEqual(['cork', 'uncork']);
  });

  it('a listener closed in the same tick as a send still delivers the frame before the socket goes', async () => {
    const held: { listener?: WebSocketListener } = {};
    const supervisor = createSupervisor({
      methods: {
        bye: (_params, ctx) => {
          ctx.session.notify('notifications/bye', {});
          void held.listener?.close();
          return 'never sent';
        },
      },
    });
    const listener = await listenWebSocket(supervisor, { host: '127.0.0.1', port: 0 });
    held.listener = listener;
    const client = new WebSocket(listener.url);
    await once(client, 'open');
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    const closed = once(client, 'close');
    client.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'bye' }));
    await closed;
    expect(received.map((text) => JSON.parse(text) as unknown)).toEqual([{ jsonrpc: '2.0', method: 'notifications/bye', params: {} }]);
    await supervisor.close();
  });
});
