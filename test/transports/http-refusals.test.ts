import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor, type Supervisor } from '../../src/index.js';
import { createHttpHandler, listenHttp, type HttpListener, type HttpServerOptions } from '../../src/transports/http.js';
import { listenWebSocket, type WebSocketListener, type WebSocketServerOptions } from '../../src/transports/ws.js';
import { post, POST_HEADERS, raw, upgrade } from './http-harness.js';

const ECHO = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { ok: true } });

let supervisor: Supervisor | undefined;
let listener: HttpListener | undefined;
let wsListener: WebSocketListener | undefined;
let ownServer: Server | undefined;

async function start(options: HttpServerOptions = {}): Promise<{ listener: HttpListener; supervisor: Supervisor }> {
  supervisor = createSupervisor({ methods: { echo: (params) => params } });
  listener = await listenHttp(supervisor, options);
  return { listener, supervisor };
}

afterEach(async () => {
  await supervisor?.close();
  await listener?.close();
  await wsListener?.close();
  if (ownServer !== undefined) await new Promise((resolve) => ownServer!.close(resolve));
  supervisor = undefined;
  listener = undefined;
  wsListener = undefined;
  ownServer = undefined;
});

describe('Streamable HTTP: bad input gets the specified status, never a crash', () => {
  it('answers malformed JSON with 400, -32700 and id null', async () => {
    const { listener, supervisor } = await start();
    const response = await post(listener.url, '{"jsonrpc":"2.0","id":1,');
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    expect(supervisor.stats().sessions.total).toBe(0);
  });

  it('answers a body that is not UTF-8 with 400 and -32700', async () => {
    const { listener } = await start();
    const response = await raw(listener.url, { method: 'POST', headers: POST_HEADERS, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ id: null, error: { code: -32700 } });
  });

  it('takes a body that starts with a UTF-8 byte order mark, and refuses one cut inside a character', async () => {
    const { listener } = await start();
    const withBom = await raw(listener.url, { method: 'POST', headers: POST_HEADERS, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ECHO)]) });
    expect(withBom.status).toBe(200);
    expect(withBom.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { ok: true } });
    const cut = await raw(listener.url, { method: 'POST', headers: POST_HEADERS, body: Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"echo","params":{"t":"'), Buffer.from([0xe2, 0x82])]) });
    expect(cut.status).toBe(400);
    expect(cut.json()).toMatchObject({ id: null, error: { code: -32700 } });
  });

  it('answers a Content-Type other than application/json with 415', async () => {
    const { listener } = await start();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, 'content-type': type }, body: ECHO });
      expect(response.status).toBe(415);
    }
    const missing = await raw(listener.url, { method: 'POST', headers: { accept: POST_HEADERS.accept }, body: ECHO });
    expect(missing.status).toBe(415);
    const withCharset = await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, 'content-type': 'application/json; charset=utf-8' }, body: ECHO });
    expect(withCharset.status).toBe(200);
  });

  it('answers an Accept without both application/json and text/event-stream with 406', async () => {
    const { listener, supervisor } = await start();
    for (const accept of ['application/json', 'text/event-stream', 'text/html']) {
      const response = await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, accept }, body: ECHO });
      expect(response.status).toBe(406);
    }
    for (const accept of ['*/*', 'application/json;q=0.9, text/event-stream']) {
      const response = await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, accept }, body: ECHO });
      expect(response.status).toBe(200);
    }
    expect(supervisor.stats().sessions.total).toBe(2);
  });

  it('answers a Content-Length over maxBodyBytes with 413 before reading the body', async () => {
    const { listener } = await start({ maxBodyBytes: 1024 });
    const target = new URL(listener.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: false, headers: { ...POST_HEADERS, 'content-length': 10 * 1024 * 1024 } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      // Headers only: the 10 MiB body never comes, so a 413 proves nothing was waited for.
      req.flushHeaders();
    });
    expect(status).toBe(413);
  });

  it('answers a chunked body that grows past maxBodyBytes with 413 while it streams', async () => {
    const { listener } = await start({ maxBodyBytes: 1024 });
    const target = new URL(listener.url);
    const outcome = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: false, headers: { ...POST_HEADERS, 'transfer-encoding': 'chunked' } });
      let sent = 0;
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        res.resume();
        resolve({ status: res.statusCode ?? 0, sent });
        req.destroy();
      });
      req.on('error', (error) => {
        if (!answered) reject(error);
      });
      const pump = (): void => {
        // Bounded: 64 chunks of 512 bytes at most; the server must answer long before the end.
        if (answered || sent >= 64 * 512) return;
        req.write('x'.repeat(512));
        sent += 512;
        setImmediate(pump);
      };
      pump();
    });
    expect(outcome.status).toBe(413);
    expect(outcome.sent).toBeLessThan(64 * 512);
  });

  it('answers a body that does not arrive in time with 408', async () => {
    const { listener } = await start({ bodyTimeoutMs: 50 });
    const target = new URL(listener.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: false, headers: { ...POST_HEADERS, 'content-length': 100 } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write('{"jsonrpc"');
    });
    expect(status).toBe(408);
  });

  it('gives every slow body its own deadline, oldest first, and leaves finished bodies alone', async () => {
    const timeoutMs = 300;
    const { listener } = await start({ bodyTimeoutMs: timeoutMs });
    const target = new URL(listener.url);
    const slowPost = (): Promise<{ status: number; elapsedMs: number }> =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: false, headers: { ...POST_HEADERS, 'content-length': 100 } });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, elapsedMs: performance.now() - started });
          req.destroy();
        });
        req.on('error', reject);
        req.write('{"jsonrpc"');
      });
    const first = slowPost();
    await new Promise((resolve) => setTimeout(resolve, timeoutMs / 2));
    const second = slowPost();
    const fast = await post(listener.url, ECHO);
    expect(fast.status).toBe(200);
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(408);
    expect(b.status).toBe(408);
    // The second body is not refused with the first: each waits its whole timeout (the client
    // starts its clock before the server does, so the elapsed time can only be longer).
    expect(a.elapsedMs).toBeGreaterThanOrEqual(timeoutMs);
    expect(b.elapsedMs).toBeGreaterThanOrEqual(timeoutMs);
  });

  it('forgets a body the client breaks off: no session, nothing left reading, the server goes on', async () => {
    const { listener, supervisor } = await start();
    const target = new URL(listener.url);
    const socket = connect(Number(target.port), target.hostname);
    await once(socket, 'connect');
    socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"jsonrpc"`);
    // The server has the headers and part of the body: one body is being read.
    for (let i = 0; i < 400 && listener.stats().bodiesReading === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(listener.stats().bodiesReading).toBe(1);
    socket.destroy();
    for (let i = 0; i < 400 && listener.stats().bodiesReading > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(listener.stats().bodiesReading).toBe(0);
    expect(supervisor.stats().sessions.total).toBe(0);
    const after = await post(listener.url, ECHO);
    expect(after.status).toBe(200);
  });

  it('answers headers that do not arrive in time with 408 and closes the connection', async () => {
    const { listener, supervisor } = await start({ headersTimeoutMs: 100 });
    const socket = connect(listener.port, '127.0.0.1');
    socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    await once(socket, 'close');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(supervisor.stats().sessions.total).toBe(0);
  });

  it('answers 404 for another path', async () => {
    const { listener } = await start();
    const response = await raw(listener.url, { method: 'POST', path: '/other', headers: POST_HEADERS, body: ECHO });
    expect(response.status).toBe(404);
  });

  it('answers 503 with Retry-After while the supervisor does not accept', async () => {
    const { listener, supervisor } = await start();
    await supervisor.drain();
    const response = await post(listener.url, JSON.parse(ECHO));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
  });
});

describe('Streamable HTTP: who may connect (DNS rebinding, authentication)', () => {
  it('refuses a foreign Host or Origin with 403 on a loopback listener, and admits loopback ones', async () => {
    const { listener, supervisor } = await start();
    const port = listener.port;
    expect((await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, host: 'evil.example' }, body: ECHO })).status).toBe(403);
    expect((await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, host: `evil.example:${port}` }, body: ECHO })).status).toBe(403);
    expect((await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, origin: 'http://evil.example' }, body: ECHO })).status).toBe(403);
    expect((await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, origin: 'null' }, body: ECHO })).status).toBe(403);
    expect(supervisor.stats().sessions.total).toBe(0);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const response = await raw(listener.url, { method: 'POST', headers: { ...POST_HEADERS, host, origin: `http://${host}` }, body: ECHO });
      expect(response.status).toBe(200);
    }
    expect(listener.stats().refused[403]).toBe(4);
  });

  it('refuses before reading the body, and closes a connection whose body has not arrived', async () => {
    const { listener } = await start();
    const target = new URL(listener.url);
    const res = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = request({
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: { ...POST_HEADERS, origin: 'http://evil.example', 'content-length': 1000 },
      });
      req.on('response', (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, connection: response.headers.connection });
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(res).toEqual({ status: 403, connection: 'close' });
  });

  it('admits configured hosts and origins, and any with "*"', async () => {
    const { listener } = await start({ allowedHosts: ['mcp.example.com'], allowedOrigins: ['https://app.example.com'] });
    const headers = { ...POST_HEADERS, host: 'mcp.example.com', origin: 'https://app.example.com' };
    expect((await raw(listener.url, { method: 'POST', headers, body: ECHO })).status).toBe(200);
    expect((await raw(listener.url, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body: ECHO })).status).toBe(403);
    expect((await raw(listener.url, { method: 'POST', headers: { ...headers, host: '127.0.0.1' }, body: ECHO })).status).toBe(403);
    await listener.close();
    const open = await start({ allowedHosts: '*', allowedOrigins: '*' });
    const anyone = await raw(open.listener.url, { method: 'POST', headers: { ...POST_HEADERS, host: 'evil.example', origin: 'http://evil.example' }, body: ECHO });
    expect(anyone.status).toBe(200);
  });

  it('answers 401 when authenticate says no, 500 when it throws, and runs no session', async () => {
    const { listener, supervisor } = await start({ authenticate: (request) => request.headers.authorization === 'Bearer secret' });
    expect((await post(listener.url, JSON.parse(ECHO))).status).toBe(401);
    expect((await post(listener.url, JSON.parse(ECHO), { authorization: 'Bearer secret' })).status).toBe(200);
    expect(supervisor.stats().sessions.total).toBe(1);
    await listener.close();
    const throwing = await start({
      authenticate: () => {
        throw new Error('auth backend down');
      },
    });
    expect((await post(throwing.listener.url, JSON.parse(ECHO))).status).toBe(500);
    expect(throwing.supervisor.stats().sessions.total).toBe(0);
  });
});

describe('createHttpHandler in an existing node:http server', () => {
  it('serves its path and hands every other request to next()', async () => {
    supervisor = createSupervisor({ methods: { echo: (params) => params } });
    const handler = createHttpHandler(supervisor, { path: '/rpc' });
    ownServer = createServer((req, res) =>
      handler(req, res, () => {
        res.writeHead(418).end('mine');
      }),
    );
    await new Promise<void>((resolve) => ownServer!.listen(0, '127.0.0.1', resolve));
    const address = ownServer.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const answer = await post(`http://127.0.0.1:${port}/rpc`, JSON.parse(ECHO));
    expect(answer.json()).toMatchObject({ result: { ok: true } });
    const other = await raw(`http://127.0.0.1:${port}/elsewhere`, { method: 'GET' });
    expect(other.status).toBe(418);
    expect(other.text).toBe('mine');
    handler.close();
  });
});

describe('the same secure defaults for the WebSocket listener', () => {
  async function startWs(options: WebSocketServerOptions = {}): Promise<WebSocketListener> {
    supervisor = createSupervisor({ methods: { echo: (params) => params } });
    wsListener = await listenWebSocket(supervisor, options);
    return wsListener;
  }

  it('refuses an upgrade with a foreign Origin or Host with 403 on a loopback listener', async () => {
    const ws = await startWs();
    expect(await upgrade(ws.url, { headers: { origin: 'http://evil.example' } })).toBe(403);
    expect(await upgrade(ws.url, { headers: { host: 'evil.example' } })).toBe(403);
    expect(await upgrade(ws.url, { headers: { host: `evil.example:${ws.port}` } })).toBe(403);
    expect(supervisor!.stats().sessions.total).toBe(0);
    expect(await upgrade(ws.url)).toBe('open');
    expect(await upgrade(ws.url, { headers: { origin: `http://localhost:${ws.port}`, host: `localhost:${ws.port}` } })).toBe('open');
  });

  it('opens up with allowedHosts / allowedOrigins', async () => {
    const ws = await startWs({ allowedHosts: ['evil.example'], allowedOrigins: '*' });
    expect(await upgrade(ws.url, { headers: { origin: 'http://evil.example', host: 'evil.example' } })).toBe('open');
  });

  it('refuses foreign upgrades on the HTTP listener’s WebSocket side too', async () => {
    const { listener } = await start({ webSocket: true });
    const url = `ws://127.0.0.1:${listener.port}`;
    expect(await upgrade(url, { headers: { origin: 'http://evil.example' } })).toBe(403);
    expect(await upgrade(url, { headers: { host: 'evil.example' } })).toBe(403);
    expect(await upgrade(url)).toBe('open');
  });
});
