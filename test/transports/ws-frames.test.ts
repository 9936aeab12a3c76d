import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ErrorCode, type MethodTable } from '../../src/index.js';
import {
  clientFrame,
  declaredLengthHeader,
  expectedInvariantBreaks,
  startServer,
  type TestServer,
  until,
  wrapClient,
} from '../fixtures/ws-harness.js';
import { startOwnServer } from '../fixtures/ws-own-server.js';
import { createWebSocketTransport } from '../../src/transports/ws.js';
import type { TransportSink } from '../../src/index.js';

const methods: MethodTable = {
  echo: (params) => params,
  big: (params) => 'x'.repeat((params as { bytes: number }).bytes),
  slow: (_params, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    }),
};

let server: TestServer | undefined;

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s === undefined) return;
  await s.dispose();
  await s.until(() => s.supervisor.sessions().length === 0, 'every session closed');
  expect(expectedInvariantBreaks(s)).toEqual([]);
});

async function start(options: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  server = await startServer(methods, options);
  return server;
}

describe('WebSocket frames', () => {
  it('answers a text frame with one response', async () => {
    const s = await start();
    const client = await s.connect();
    client.request(1, 'echo', { text: 'héllo ☃' });
    expect(await client.response(1)).toEqual({ jsonrpc: '2.0', id: 1, result: { text: 'héllo ☃' } });
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    expect(expectedInvariantBreaks(s)).toEqual([]);
    expect(s.supervisor.stats().completed).toBe(1);
  });

  it('decodes a binary frame as UTF-8 text by default', async () => {
    const s = await start();
    const client = await s.connect();
    client.ws.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'b', method: 'echo', params: ['ü'] })), { binary: true });
    expect(await client.response('b')).toEqual({ jsonrpc: '2.0', id: 'b', result: ['ü'] });
  });

  it('answers a binary frame with invalid UTF-8 with -32700 and keeps the session', async () => {
    const s = await start();
    const client = await s.connect();
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true });
    expect(await client.response(null as unknown as number)).toMatchObject({ id: null, error: { code: ErrorCode.ParseError } });
    client.request(2, 'echo', ['still here']);
    expect(await client.response(2)).toMatchObject({ result: ['still here'] });
    expect(s.transports[0]?.outputOpen).toBe(true);
  });

  it("closes with 1003 on a binary frame when binaryFrames is 'refuse'", async () => {
    const s = await start({ server: { binaryFrames: 'refuse' } });
    const client = await s.connect();
    client.ws.send(Buffer.from('{}'), { binary: true });
    expect((await client.closed).code).toBe(1003);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    expect(s.transports[0]?.closeCode).toBe(1003);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });

  it('closes with 1007 on a text frame with invalid UTF-8 and cancels nothing else', async () => {
    const s = await start();
    const other = await s.connect();
    const client = await s.connect();
    client.socket.write(clientFrame(0x1, Buffer.from([0x22, 0xc3, 0x28, 0x22])));
    expect((await client.closed).code).toBe(1007);
    await s.until(() => s.supervisor.sessions().length === 1, 'one session closed');
    expect(s.transports[1]?.closeCode).toBe(1007);
    expect(s.transports[1]?.closeDetail).toContain('WS_ERR_INVALID_UTF8');
    other.request(1, 'echo', ['unaffected']);
    expect(await other.response(1)).toMatchObject({ result: ['unaffected'] });
    expect(s.debug.some((entry) => String(entry.detail).startsWith('ws-error 1007'))).toBe(true);
  });

  it('closes with 1009 on a frame declaring 2^40 bytes with no body', async () => {
    const s = await start();
    const client = await s.connect();
    client.request(1, 'slow');
    await s.until(() => s.supervisor.stats().inFlight === 1, 'handler running');
    client.socket.write(declaredLengthHeader(2n ** 40n));
    expect((await client.closed).code).toBe(1009);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    const stats = s.supervisor.stats();
    expect(stats.cancelled['transport-closed']).toBe(1);
    expect(s.transports[0]?.closeCode).toBe(1009);
    expect(client.responsesPerId().size).toBe(0);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });

  it('closes with 1009 on a real message above maxPayload', async () => {
    const s = await start({ server: { maxPayload: 1024 } });
    const client = await s.connect();
    client.request(1, 'echo', ['y'.repeat(2048)]);
    expect((await client.closed).code).toBe(1009);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    expect(s.supervisor.stats().requests).toBe(0);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });

  it('cancels in-flight handlers with transport-closed when the socket resets, writing nothing', async () => {
    const s = await start();
    const client = await s.connect();
    client.request(1, 'slow');
    client.request(2, 'slow');
    await s.until(() => s.supervisor.stats().inFlight === 2, 'two handlers running');
    client.socket.resetAndDestroy();
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    const stats = s.supervisor.stats();
    expect(stats.cancelled['transport-closed']).toBe(2);
    expect(stats.completed).toBe(0);
    expect(stats.lateAnswers).toBe(0);
    expect(stats.blockedSends).toBe(0);
    expect(s.transports[0]?.writesAfterClose).toBe(0);
    expect(s.transports[0]?.outputOpen).toBe(false);
    expect(client.received).toEqual([]);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });

  it('cancels in-flight handlers with transport-closed when the peer closes cleanly', async () => {
    const s = await start();
    const client = await s.connect();
    client.request(1, 'slow');
    await s.until(() => s.supervisor.stats().inFlight === 1, 'handler running');
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    expect(s.supervisor.stats().cancelled['transport-closed']).toBe(1);
    expect(client.responsesPerId().size).toBe(0);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });
});

describe('WebSocket heartbeat', () => {
  it('terminates a peer that stops answering pings, with detail heartbeat-timeout', async () => {
    const s = await start({ server: { heartbeatMs: 30 } });
    const client = await s.connect({ autoPong: false });
    client.request(1, 'slow');
    await s.until(() => s.supervisor.stats().inFlight === 1, 'handler running');
    const { code } = await client.closed;
    expect(code).toBe(1006);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');
    expect(s.transports[0]?.closeDetail).toBe('heartbeat-timeout');
    expect(s.debug.some((entry) => entry.detail === 'heartbeat-timeout')).toBe(true);
    expect(s.supervisor.stats().cancelled['transport-closed']).toBe(1);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });

  it('keeps a peer that answers pings', async () => {
    const s = await start({ server: { heartbeatMs: 100 } });
    const client = await s.connect();
    let pings = 0;
    client.ws.on('ping', () => {
      pings += 1;
    });
    await s.until(() => pings >= 4, 'four pings');
    client.request(1, 'echo', ['alive']);
    expect(await client.response(1)).toMatchObject({ result: ['alive'] });
    expect(s.transports[0]?.outputOpen).toBe(true);
  });

  it('keeps a peer whose pong sits unread while the server process was busy past the next ping', async () => {
    const heartbeatMs = 40;
    const s = await start({ server: { heartbeatMs } });
    const client = await s.connect();
    let pings = 0;
    client.ws.on('ping', () => {
      pings += 1;
      if (pings !== 2) return;
      // The pong is already written; block this process past the next heartbeat tick.
      const until = performance.now() + heartbeatMs * 3;
      while (performance.now() < until) {
        // busy
      }
    });
    await s.until(() => pings >= 4 || s.transports[0]?.outputOpen === false, 'two more pings after the busy spell');
    expect(s.transports[0]?.outputOpen).toBe(true);
    expect(s.transports[0]?.closeDetail).toBeUndefined();
  });
});

describe('WebSocket backpressure', () => {
  it('refuses with -32002 and then closes 1013 a reader that never reads, with server memory bounded', async () => {
    const highWaterMark = 64 * 1024;
    const closeWaterMark = 256 * 1024;
    const bytes = 32 * 1024;
    const s = await start({ server: { highWaterMark, closeWaterMark } });
    const client = await s.connect();
    client.socket.pause();
    const transport = () => s.transports[0]!;
    let sent = 0;
    // Enough big answers to fill the kernel buffers, then small requests until the server gives up.
    for (let round = 0; round < 400 && transport().closeCode === undefined; round += 1) {
      for (let i = 0; i < 50; i += 1) {
        sent += 1;
        client.request(sent, 'big', { bytes });
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(transport().closeCode).toBe(1013);
    expect(transport().peakBufferedAmount).toBeLessThanOrEqual(closeWaterMark + bytes + 64);
    client.socket.resume();
    expect((await client.closed).code).toBe(1013);
    await s.until(() => s.supervisor.sessions().length === 0, 'session closed');

    const answers = client.received.map((r) => r.message);
    const results = answers.filter((m) => 'result' in m);
    const refusals = answers.filter((m) => (m.error as { code?: number } | undefined)?.code === ErrorCode.Overloaded);
    expect(results.length).toBeGreaterThan(0);
    expect(refusals.length).toBeGreaterThan(0);
    // Once refusing, it never answered again: the policy is bounded, not a flood.
    const firstRefusal = answers.findIndex((m) => 'error' in m);
    expect(answers.slice(firstRefusal).every((m) => 'error' in m)).toBe(true);
    const stats = s.supervisor.stats();
    expect(stats.refused).toBeGreaterThanOrEqual(refusals.length);
    expect(stats.completed).toBe(results.length);
    expect(expectedInvariantBreaks(s)).toEqual([]);
  });

  it('terminates an overloaded reader that never completes the close handshake after closeTimeoutMs', async () => {
    const s = await start({ server: { highWaterMark: 64 * 1024, closeWaterMark: 256 * 1024, closeTimeoutMs: 50 } });
    const client = await s.connect();
    client.socket.pause();
    let sent = 0;
    for (let round = 0; round < 400 && s.transports[0]?.closeCode === undefined; round += 1) {
      for (let i = 0; i < 50; i += 1) client.request(++sent, 'big', { bytes: 32 * 1024 });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(s.transports[0]?.closeCode).toBe(1013);
    // The client still reads nothing; the server lets go of the socket (and its buffer) by itself.
    const connections = (): Promise<number> =>
      new Promise((resolve, reject) => s.listener.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    let open = await connections();
    for (let turn = 0; turn < 2_000 && open > 0; turn += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      open = await connections();
    }
    expect(open).toBe(0);
    expect(client.ws.readyState).toBe(WebSocket.OPEN); // it never saw the close frame: nothing was read
    client.socket.resume();
    await client.closed;
  });

  it('admits requests again once a slow reader catches up', async () => {
    const s = await start({ server: { highWaterMark: 16 * 1024, closeWaterMark: 64 * 1024 * 1024 } });
    const client = await s.connect();
    client.socket.pause();
    let sent = 0;
    for (let round = 0; round < 400 && s.transports[0]?.underPressure !== true; round += 1) {
      for (let i = 0; i < 20; i += 1) client.request(++sent, 'big', { bytes: 32 * 1024 });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(s.transports[0]?.underPressure).toBe(true);
    const processed = () => s.supervisor.stats().requests + s.supervisor.stats().refused;
    await s.until(() => processed() === sent, 'every request answered or refused');
    client.request('refused', 'echo', ['x']);
    await s.until(() => processed() === sent + 1, 'the extra request processed');
    client.socket.resume();
    expect(await client.response('refused')).toMatchObject({ error: { code: ErrorCode.Overloaded } });
    await s.until(() => s.transports[0]?.underPressure === false, 'pressure back to normal');
    client.request('admitted', 'echo', ['y']);
    expect(await client.response('admitted')).toMatchObject({ result: ['y'] });
    expect(s.transports[0]?.outputOpen).toBe(true);
  });
});

describe('WebSocket send failures', () => {
  it('reports the output gone when a send fails under an OPEN socket', async () => {
    const own = await startOwnServer({ accepting: true, attach: () => undefined }, {}, false);
    try {
      const client = wrapClient(new WebSocket(own.url, { perMessageDeflate: false }));
      await once(client.ws, 'open');
      const serverSocket = own.sockets[0]!;
      const transport = createWebSocketTransport(serverSocket, { heartbeatMs: 0 });
      const closed: string[] = [];
      const sink: TransportSink = {
        onFrame: () => {},
        onMalformed: () => {},
        onInputEnded: () => {},
        onClosed: (detail) => closed.push(detail),
      };
      transport.start(sink);
      // The TCP socket goes away underneath ws, which still says OPEN until its 'close' event.
      (serverSocket as unknown as { _socket: Socket })._socket.destroy();
      expect(transport.outputOpen).toBe(true);
      transport.send('{"jsonrpc":"2.0","method":"late"}');
      await until(() => closed.length > 0, 'output reported gone');
      expect(closed).toHaveLength(1);
      expect(closed[0]).toMatch(/^send failed: /);
      expect(transport.outputOpen).toBe(false);
      transport.send('{}');
      expect(transport.writesAfterClose).toBe(1);
      await until(() => serverSocket.readyState === WebSocket.CLOSED, 'socket closed');
      expect(closed).toHaveLength(1);
      await client.closed;
    } finally {
      await own.close();
    }
  });
});
