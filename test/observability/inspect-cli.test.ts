import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createCliInspector, type CliInspector } from '../../src/observability/inspect.js';
import { createMemoryTransportPair, createSupervisor, type MethodTable } from '../../src/index.js';

interface Message {
  type: string;
  name?: string;
  sessionId: string;
  parentId?: string;
  event?: { type: string; reason?: string };
  snapshot?: { value?: unknown; status?: string; output?: unknown };
}

const methods: MethodTable = {
  wait: (_params, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    }),
};

/** Poll until `check` holds (bounded: about 10 s, a hang guard, not a timing assertion). */
async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const parse = (data: unknown): Message => JSON.parse(String(data)) as Message;

/** Run one request that the peer cancels, then close the session; resolves once closed. */
async function runCancelledRequest(inspector: CliInspector): Promise<void> {
  const supervisor = createSupervisor({ methods, inspect: inspector });
  const { transport, peer } = createMemoryTransportPair();
  const session = supervisor.attach(transport);
  peer.send({ jsonrpc: '2.0', id: 1, method: 'wait' });
  peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } });
  await new Promise((resolve) => setImmediate(resolve));
  peer.vanish();
  await session.closed;
  await supervisor.close();
}

/** The handler's lifecycle as the Stately events tell it. */
function expectRequestLife(messages: Message[]): void {
  const actors = new Map(messages.filter((m) => m.type === '@xstate.actor').map((m) => [m.name, m]));
  const supervisorActor = [...actors.values()].find((m) => m.parentId === undefined);
  // Connection actors all have the id `connection`; the session id is in their context.
  const connection = actors.get('connection');
  const handler = actors.get('request:1');
  expect(supervisorActor).toBeDefined();
  expect(connection?.parentId).toBe(supervisorActor?.sessionId);
  expect(handler?.parentId).toBe(connection?.sessionId);
  const of = (id: string | undefined) => messages.filter((m) => m.sessionId === id);
  const life = of(handler?.sessionId)
    .filter((m) => m.type !== '@xstate.actor')
    .map((m) => (m.type === '@xstate.event' ? `event ${m.event?.type}${m.event?.reason ? `(${m.event.reason})` : ''}` : `state ${String(m.snapshot?.value)}`));
  expect(life).toEqual([
    'event xstate.init',
    'state running',
    'event handler.cancel(client)',
    'state cancelling',
    'event handler.reject',
    'state done',
  ]);
  expect(of(handler?.sessionId).at(-1)?.snapshot).toMatchObject({ status: 'done', output: { kind: 'cancelled', reason: 'client' } });
  expect(of(connection?.sessionId).filter((m) => m.type === '@xstate.snapshot').map((m) => m.snapshot?.value)).toEqual(
    expect.arrayContaining([{ open: 'connected' }, 'closed']),
  );
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function closeWss(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  return new Promise<void>((done) => wss.close(() => done()));
}

function listenWs(): Promise<{ wss: WebSocketServer; url: string; received: Message[]; closes: number[] }> {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = wss.address() as AddressInfo;
      const received: Message[] = [];
      const closes: number[] = [];
      wss.on('connection', (socket) => {
        socket.on('message', (data) => received.push(parse(data)));
        socket.on('close', (code) => closes.push(code));
      });
      cleanups.push(() => closeWss(wss));
      resolve({ wss, url: `ws://127.0.0.1:${port}`, received, closes });
    });
  });
}

describe('createCliInspector with a relay url', () => {
  it('forwards the actors, events and snapshots of a request’s life to the relay', async () => {
    const relay = await listenWs();
    const lines: string[] = [];
    const inspector = createCliInspector({ url: relay.url, retryMs: 20, announce: (line) => lines.push(line) });
    cleanups.push(() => inspector.stop());
    expect(await inspector.ready).toEqual({ url: relay.url, page: undefined });
    expect(lines).toEqual([`inspect: sending actor events to ${relay.url}`]);
    await runCancelledRequest(inspector);
    await waitFor(() => relay.received.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.status === 'done' && (m.snapshot.output as { kind?: string } | undefined)?.kind === 'cancelled'), 'the handler’s done snapshot');
    // The connection closes after its handler is done: its last snapshot may come in a later batch.
    await waitFor(() => relay.received.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'closed'), 'the connection’s closed snapshot');
    expect(new Set(relay.received.map((m) => m.type))).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    expectRequestLife(relay.received);
    expect(inspector.connected).toBe(true);
    await inspector.stop();
    await waitFor(() => relay.closes.length === 1, 'the relay to see the close');
    expect(relay.closes).toEqual([1001]);
    expect(inspector.connected).toBe(false);
  });

  it('keeps events while the relay is down, reports the outage once, and delivers the events once it is up', async () => {
    // First a TCP server that drops every connection: each retry fails and is counted here.
    let attempts = 0;
    const dropper = createNetServer((socket) => {
      attempts += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    const { port } = dropper.address() as AddressInfo;
    const errors: Error[] = [];
    const inspector = createCliInspector({ url: `ws://127.0.0.1:${port}`, retryMs: 10, announce: false, onError: (e) => errors.push(e) });
    cleanups.push(() => inspector.stop());
    await runCancelledRequest(inspector);
    await waitFor(() => attempts >= 3, 'three failed attempts');
    expect(errors).toHaveLength(1); // once per outage, not once per retry
    await new Promise<void>((resolve) => dropper.close(() => resolve()));
    // Then the relay comes up on that port.
    const received: Message[] = [];
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    cleanups.push(() => closeWss(wss));
    wss.on('connection', (socket) => socket.on('message', (data) => received.push(parse(data))));
    await waitFor(() => received.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.status === 'done' && m.snapshot.value === 'done'), 'the kept events');
    await waitFor(() => received.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'closed'), 'the connection’s closed snapshot');
    expectRequestLife(received);
    expect(inspector.connected).toBe(true);
  });

  it('lets the process exit after stop() even when the relay was never reachable', async () => {
    const module = join(import.meta.dirname, '..', '..', 'src', 'observability', 'inspect.ts');
    const code = [
      `import { createCliInspector } from ${JSON.stringify(module)};`,
      `const inspector = createCliInspector({ url: 'ws://127.0.0.1:9', retryMs: 10, onError: () => {} });`,
      `setTimeout(() => { void inspector.stop().then(() => console.log('stopped')); }, 200);`,
    ].join('\n');
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(out.trim()).toBe('stopped');
    expect(exitCode).toBe(0);
  });
});

describe('createCliInspector with the built-in relay', () => {
  async function startRelay(extra: Parameters<typeof createCliInspector>[0] = {}) {
    const inspector = createCliInspector({ port: 0, announce: false, ...extra });
    cleanups.push(() => inspector.stop());
    const address = await inspector.ready;
    return { inspector, address };
  }

  function openClient(url: string, origin?: string): Promise<{ ws: WebSocket; received: Message[] }> {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    const received: Message[] = [];
    ws.on('message', (data) => received.push(parse(data)));
    cleanups.push(() => ws.terminate());
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, received }));
      ws.once('error', reject);
    });
  }

  const closeOf = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.once('close', (code) => resolve(code)));

  it('serves the bridge page on loopback and replays earlier events to a page that opens late', async () => {
    const lines: string[] = [];
    const { inspector, address } = await startRelay({ announce: (line) => lines.push(line) });
    expect(lines).toEqual([`inspect: open ${address.page} in a browser to watch the actors in the Stately inspector`]);
    expect(address.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(address.page).toBe(`${address.url.replace('ws:', 'http:')}/`);
    const page = await fetch(address.page!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<iframe id="inspector" src="https://stately.ai/inspect">');
    expect(html).toContain(`new WebSocket(${JSON.stringify(address.url)})`);
    expect((await fetch(new URL('/elsewhere', address.page!))).status).toBe(404);

    await runCancelledRequest(inspector);
    // The inspector converts each event on a zero-delay timer; timers of one delay fire in order, so
    // once this one fires every event is in the relay's buffer and the page gets them as a replay.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const origin = new URL(address.page!).origin;
    const late = await openClient(address.url, origin);
    await waitFor(() => late.received.some((m) => m.snapshot?.value === 'done'), 'the replay');
    expectRequestLife(late.received);
    expect(inspector.connected).toBe(true);
  });

  it('relays events from another process’s inspector to the open pages', async () => {
    const { address } = await startRelay();
    const page = await openClient(address.url, new URL(address.page!).origin);
    const publisher = await openClient(address.url);
    const event = { type: '@xstate.event', sessionId: 'x:9', event: { type: 'ping' } };
    publisher.ws.send(JSON.stringify(event));
    await waitFor(() => page.received.length > 0, 'the relayed event');
    expect(page.received).toEqual([event]);
    expect(publisher.received).toEqual([]);
  });

  it('refuses browser pages from other origins with 403', async () => {
    const { address } = await startRelay();
    const ws = new WebSocket(address.url, { origin: 'https://example.com' });
    ws.on('error', () => {}); // the refused handshake also ends in an error event
    cleanups.push(() => ws.terminate());
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.once('open', () => resolve(undefined));
    });
    expect(status).toBe(403);
  });

  it('closes a client that sends a binary frame (1003), a non-event (1007) or an oversized message (1009)', async () => {
    const { address } = await startRelay({ maxMessageBytes: 1024 });
    const binary = await openClient(address.url);
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect(await closeOf(binary.ws)).toBe(1003);
    const notJson = await openClient(address.url);
    notJson.ws.send('{not json');
    expect(await closeOf(notJson.ws)).toBe(1007);
    const notEvent = await openClient(address.url);
    notEvent.ws.send('[1,2]');
    expect(await closeOf(notEvent.ws)).toBe(1007);
    const big = await openClient(address.url);
    big.ws.send(JSON.stringify({ type: 'x', pad: 'y'.repeat(2048) }));
    expect(await closeOf(big.ws)).toBe(1009);
  });

  it('rejects ready with EADDRINUSE when the port is taken, reports it, and does not crash', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((done) => taken.close(() => done())));
    const { port } = taken.address() as AddressInfo;
    const errors: Error[] = [];
    const lines: string[] = [];
    const inspector = createCliInspector({ port, onError: (e) => errors.push(e), announce: (line) => lines.push(line) });
    cleanups.push(() => inspector.stop());
    await expect(inspector.ready).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['EADDRINUSE']);
    expect(lines).toEqual([]);
    // Still a working observer: events are accepted and dropped without throwing.
    await runCancelledRequest(inspector);
    await inspector.stop();
  });
});
