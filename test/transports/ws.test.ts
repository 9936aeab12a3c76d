import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSupervisor, createTestClock, ErrorCode, SupervisorError, type MethodTable, type Supervisor } from '../../src/index.js';
import { CLOSE_CODE_BY_INTENT, createWebSocketTransport, listenWebSocket } from '../../src/transports/ws.js';
import { clientFrame, expectedInvariantBreaks, startServer, until, wrapClient, type TestServer } from '../fixtures/ws-harness.js';
import { startOwnServer, type OwnServer } from '../fixtures/ws-own-server.js';
import { upgrade } from './http-harness.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

let release = gate();

const methods: MethodTable = {
  echo: (params) => params,
  /** Answers once the test opens the gate. */
  wait: async (params) => {
    await release.promise;
    return params;
  },
  /** Never answers; rejects with the cancel reason. */
  slow: (_params, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    }),
};

let server: TestServer | undefined;
let own: OwnServer<unknown> | undefined;
const extraSupervisors: Supervisor[] = [];

afterEach(async () => {
  release.open();
  release = gate();
  const s = server;
  server = undefined;
  if (s !== undefined) {
    await s.dispose();
    await s.until(() => s.supervisor.sessions().length === 0, 'every session closed');
    expect(expectedInvariantBreaks(s)).toEqual([]);
  }
  await own?.close();
  own = undefined;
  for (const supervisor of extraSupervisors.splice(0)) if (supervisor.state !== 'stopped') await supervisor.close();
});

describe('listenWebSocket: refusals before any actor exists', () => {
  it('answers a plain HTTP request with 426', async () => {
    server = await startServer(methods);
    const response = await fetch(server.listener.url.replace('ws://', 'http://'));
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
    await response.text();
    expect(server.supervisor.stats().sessions.total).toBe(0);
  });

  it('refuses an upgrade without credentials with 401 and admits one with them', async () => {
    server = await startServer(methods, {
      server: { authenticate: async (request) => request.headers.authorization === 'Bearer secret' },
    });
    expect(await upgrade(server.listener.url)).toBe(401);
    expect(await upgrade(server.listener.url, { headers: { authorization: 'Bearer wrong' } })).toBe(401);
    expect(server.supervisor.stats().sessions.total).toBe(0);
    const client = await server.connect({ headers: { authorization: 'Bearer secret' } });
    client.request(1, 'echo', ['in']);
    expect(await client.response(1)).toMatchObject({ result: ['in'] });
    expect(server.supervisor.stats().sessions.total).toBe(1);
  });

  it('answers 500 when authenticate throws, and creates no session', async () => {
    server = await startServer(methods, {
      server: {
        authenticate: () => {
          throw new Error('auth backend down');
        },
      },
    });
    expect(await upgrade(server.listener.url)).toBe(500);
    expect(server.supervisor.stats().sessions.total).toBe(0);
  });

  it('refuses an Origin outside the allow-list with 403 and admits a listed or absent one', async () => {
    server = await startServer(methods, { server: { allowedOrigins: ['https://app.example'] } });
    expect(await upgrade(server.listener.url, { origin: 'https://evil.example' })).toBe(403);
    expect(server.supervisor.stats().sessions.total).toBe(0);
    expect(await upgrade(server.listener.url, { origin: 'https://app.example' })).toBe('open');
    expect(await upgrade(server.listener.url)).toBe('open');
  });

  it('answers 503 after stopAccepting while open sessions go on', async () => {
    server = await startServer(methods);
    const client = await server.connect();
    server.listener.stopAccepting();
    expect(await upgrade(server.listener.url)).toBe(503);
    client.request(1, 'echo', ['on']);
    expect(await client.response(1)).toMatchObject({ result: ['on'] });
    expect(server.supervisor.stats().sessions.total).toBe(1);
  });

  it('answers 503 once the supervisor drains', async () => {
    server = await startServer(methods);
    await server.supervisor.drain();
    expect(server.supervisor.accepting).toBe(false);
    expect(await upgrade(server.listener.url)).toBe(503);
    expect(server.supervisor.stats().sessions.total).toBe(0);
  });
});

/** Write raw bytes to the server and read until it hangs up. */
async function rawHttp(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  await once(socket, 'connect');
  socket.write(request);
  await once(socket, 'close');
  return text;
}

describe('listenWebSocket: malformed handshakes', () => {
  it('answers an upgrade without Sec-WebSocket-Key with 400', async () => {
    server = await startServer(methods);
    const answer = await rawHttp(server.listener.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(server.supervisor.stats().sessions.total).toBe(0);
  });

  it('answers garbage instead of HTTP with 400', async () => {
    server = await startServer(methods);
    const answer = await rawHttp(server.listener.port, '\x00\xff not http at all\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(server.supervisor.stats().sessions.total).toBe(0);
  });

  it('drops an upgrade still waiting for authenticate when the listener closes', async () => {
    const verdict = gate();
    let asked = 0;
    server = await startServer(methods, {
      server: {
        authenticate: async () => {
          asked += 1;
          await verdict.promise;
          return true;
        },
      },
    });
    const attempt = upgrade(server.listener.url);
    await until(() => asked === 1, 'authenticate called');
    await server.listener.close();
    expect(await attempt).toBe(-1);
    verdict.open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.supervisor.stats().sessions.total).toBe(0);
  });
});

describe('listenWebSocket: subprotocol', () => {
  it('negotiates mcp when the client offers it', async () => {
    server = await startServer(methods);
    const client = await server.connect({ protocols: ['other', 'mcp'] });
    expect(client.ws.protocol).toBe('mcp');
    expect(server.transports[0]?.protocol).toBe('mcp');
  });

  it('negotiates nothing when the client offers no subprotocol', async () => {
    server = await startServer(methods);
    const client = await server.connect();
    expect(client.ws.protocol).toBe('');
    expect(server.transports[0]?.protocol).toBe('');
  });
});

describe('WebSocket sessions: drain and shutdown', () => {
  it('drains with requests in flight: answers arrive, new requests get -32000, then close 1000', async () => {
    server = await startServer(methods);
    const client = await server.connect();
    client.request(1, 'wait', ['a']);
    client.request(2, 'wait', ['b']);
    await until(() => server!.supervisor.stats().inFlight === 2, 'two handlers running');
    const drained = server.supervisor.drain();
    await until(() => server!.supervisor.sessions()[0]?.state === 'draining', 'session draining');
    client.request(3, 'echo', ['late']);
    expect(await client.response(3)).toMatchObject({ id: 3, error: { code: ErrorCode.SessionDraining } });
    release.open();
    expect(await client.response(1)).toMatchObject({ result: ['a'] });
    expect(await client.response(2)).toMatchObject({ result: ['b'] });
    expect((await client.closed).code).toBe(1000);
    await drained;
    const stats = server.supervisor.stats();
    expect(stats.completed).toBe(2);
    expect(stats.refused).toBe(1);
    expect(Object.values(stats.cancelled).every((n) => n === 0)).toBe(true);
    expect(stats.blockedSends).toBe(0);
    expect(server.transports[0]?.closeCode).toBe(1000);
    expect(expectedInvariantBreaks(server)).toEqual([]);
  });

  it('cancels what is left at the drain deadline with drain-timeout, answers -32800, closes 1001', async () => {
    const clock = createTestClock();
    server = await startServer(methods, { supervisor: { clock, limits: { drainTimeoutMs: 1000 } } });
    const client = await server.connect();
    client.request(1, 'slow');
    await until(() => server!.supervisor.stats().inFlight === 1, 'handler running');
    const drained = server.supervisor.drain();
    clock.advance(1000);
    expect(await client.response(1)).toMatchObject({ id: 1, error: { code: ErrorCode.RequestCancelled } });
    expect((await client.closed).code).toBe(1001);
    await drained;
    const stats = server.supervisor.stats();
    expect(stats.cancelled['drain-timeout']).toBe(1);
    expect(stats.abandoned).toBe(0);
    expect(expectedInvariantBreaks(server)).toEqual([]);
  });

  it('closes every socket with 1001 on supervisor.close(), answering in-flight requests first', async () => {
    server = await startServer(methods);
    const a = await server.connect();
    const b = await server.connect();
    a.request(1, 'slow');
    b.request(1, 'slow');
    await until(() => server!.supervisor.stats().inFlight === 2, 'two handlers running');
    await server.supervisor.close();
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect(a.received.map((r) => r.message)).toMatchObject([{ id: 1, error: { code: ErrorCode.RequestCancelled } }]);
    expect(b.received.map((r) => r.message)).toMatchObject([{ id: 1, error: { code: ErrorCode.RequestCancelled } }]);
    const stats = server.supervisor.stats();
    expect(stats.cancelled.shutdown).toBe(2);
    expect(stats.state).toBe('stopped');
    expect(expectedInvariantBreaks(server)).toEqual([]);
  });

  it('terminates what is left on listener.close() and closes the http server', async () => {
    server = await startServer(methods);
    const client = await server.connect();
    client.request(1, 'slow');
    await until(() => server!.supervisor.stats().inFlight === 1, 'handler running');
    await server.listener.close();
    expect(server.listener.server.listening).toBe(false);
    expect((await client.closed).code).toBe(1006);
    await until(() => server!.supervisor.sessions().length === 0, 'session closed');
    expect(server.supervisor.stats().cancelled['transport-closed']).toBe(1);
    expect(expectedInvariantBreaks(server)).toEqual([]);
  });

  it('handles frames that arrive after its close frame (CLOSING) without running a handler or writing', async () => {
    const supervisor = createSupervisor({ methods });
    extraSupervisors.push(supervisor);
    own = await startOwnServer(supervisor);
    const client = wrapClient(new WebSocket(own.url, { perMessageDeflate: false }));
    await once(client.ws, 'open');
    client.socket.pause(); // the client does not see the server's close frame yet
    const serverSocket = own.sockets[0]!;
    const states: number[] = [];
    serverSocket.on('message', () => states.push(serverSocket.readyState));
    await supervisor.close();
    expect(serverSocket.readyState).toBe(WebSocket.CLOSING);
    const request = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'echo', params: ['too late'] });
    client.socket.write(clientFrame(0x1, Buffer.from(request)));
    await until(() => states.length === 1, 'the server socket received the frame');
    expect(states).toEqual([WebSocket.CLOSING]);
    client.socket.resume();
    expect((await client.closed).code).toBe(1001);
    expect(client.received).toEqual([]);
    const stats = supervisor.stats();
    expect(stats.requests).toBe(0);
    expect(stats.inFlight).toBe(0);
    expect(supervisor.sessions()).toEqual([]);
  });
});

describe('attachWebSocket and createWebSocketTransport', () => {
  it('runs a session over a socket from an own http server and removes its listeners and timers on close', async () => {
    const supervisor = createSupervisor({ methods });
    extraSupervisors.push(supervisor);
    const live = new Set<ReturnType<typeof setTimeout>>();
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        const handle = setTimeout(() => {
          live.delete(handle);
          fn();
        }, ms);
        live.add(handle);
        return handle;
      },
      clearTimeout: (handle: unknown) => {
        live.delete(handle as ReturnType<typeof setTimeout>);
        clearTimeout(handle as ReturnType<typeof setTimeout>);
      },
    };
    own = await startOwnServer(supervisor, { heartbeatMs: 60_000, timers });
    const client = wrapClient(new WebSocket(own.url, { perMessageDeflate: false }));
    await once(client.ws, 'open');
    client.request(1, 'echo', { via: 'own server' });
    expect(await client.response(1)).toMatchObject({ result: { via: 'own server' } });
    expect(own.attached[0]).toBe(supervisor.sessions()[0]);
    const serverSocket = own.sockets[0]!;
    expect(live.size).toBe(1); // the heartbeat
    const before = ['message', 'close', 'error', 'pong'].map((event) => serverSocket.listenerCount(event));
    client.ws.close(1000);
    await client.closed;
    await until(() => serverSocket.readyState === WebSocket.CLOSED && supervisor.sessions().length === 0, 'closed');
    const after = ['message', 'close', 'error', 'pong'].map((event) => serverSocket.listenerCount(event));
    // Exactly the transport's own listener on each event is gone (ws's server keeps its own 'close' one).
    expect(after).toEqual(before.map((n) => n - 1));
    expect(live.size).toBe(0);
  });

  it('closes the socket with 1001 and returns undefined when the supervisor no longer accepts', async () => {
    const supervisor = createSupervisor({ methods });
    extraSupervisors.push(supervisor);
    await supervisor.drain();
    own = await startOwnServer(supervisor);
    const client = wrapClient(new WebSocket(own.url, { perMessageDeflate: false }));
    expect((await client.closed).code).toBe(1001);
    expect(own.attached).toEqual([undefined]);
    expect(supervisor.stats().sessions.total).toBe(0);
  });

  it('maps each close intent to its WebSocket close code', async () => {
    const sockets: WebSocket[] = [];
    own = await startOwnServer({ accepting: true, attach: () => undefined }, {}, false);
    const codes: Record<string, number> = {};
    for (const intent of ['normal', 'going-away', 'internal-error', 'overloaded'] as const) {
      const client = wrapClient(new WebSocket(own.url, { perMessageDeflate: false }));
      await once(client.ws, 'open');
      const serverSocket = own.sockets.at(-1)!;
      sockets.push(serverSocket);
      const transport = createWebSocketTransport(serverSocket);
      transport.close(intent);
      expect(transport.outputOpen).toBe(false);
      transport.send('{}');
      expect(transport.writesAfterClose).toBe(1);
      codes[intent] = (await client.closed).code;
    }
    expect(codes).toEqual({ normal: 1000, 'going-away': 1001, 'internal-error': 1011, overloaded: 1013 });
    expect(codes).toEqual(CLOSE_CODE_BY_INTENT);
  });

  it('refuses a second transport on the same socket, and a second attach of one transport, with ERR_TRANSPORT_IN_USE', async () => {
    const supervisor = createSupervisor({ methods });
    extraSupervisors.push(supervisor);
    own = await startOwnServer({ accepting: true, attach: () => undefined }, {}, false);
    const client = wrapClient(new WebSocket(own.url, { perMessageDeflate: false }));
    await once(client.ws, 'open');
    const serverSocket = own.sockets[0]!;
    const transport = createWebSocketTransport(serverSocket);
    expect(() => createWebSocketTransport(serverSocket)).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT_IN_USE' }));
    supervisor.attach(transport);
    expect(() => supervisor.attach(transport)).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT_IN_USE' }));
    const other = createSupervisor({ methods });
    extraSupervisors.push(other);
    expect(() => other.attach(transport)).toThrow(SupervisorError);
    // The one session still works, and it is the only one.
    client.request(1, 'echo', { once: true });
    expect(await client.response(1)).toMatchObject({ result: { once: true } });
    expect(supervisor.sessions()).toHaveLength(1);
    expect(other.sessions()).toHaveLength(0);
    client.ws.close(1000);
    await client.closed;
    await until(() => supervisor.sessions().length === 0, 'closed');
  });

  it('rejects invalid options with ERR_INVALID_OPTION', async () => {
    const supervisor = createSupervisor({ methods });
    extraSupervisors.push(supervisor);
    await expect(listenWebSocket(supervisor, { heartbeatMs: -1 })).rejects.toThrow(SupervisorError);
    await expect(listenWebSocket(supervisor, { highWaterMark: 100, closeWaterMark: 10 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await expect(listenWebSocket(supervisor, { maxPayload: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});
