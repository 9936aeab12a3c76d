import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { LoadWindow, RING } from './load-window.js';
import { toResult, type LoadResult } from './stats.js';
import { MCP_INITIALIZE, MCP_INITIALIZED, requestFrame, type LoadKind } from './messages.js';

/** One closed-loop load run over WebSockets. */
export interface WsLoadOptions {
  name: string;
  url: string;
  kind: LoadKind;
  connections: number;
  inFlight: number;
  warmupMs: number;
  measureMs: number;
  /** The server's pid, to report its CPU per request. */
  serverPid?: number;
}


interface Conn {
  socket: WebSocket;
  sentAt: Float64Array;
  nextId: number;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`connect to ${url} timed out`));
    }, 10_000);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function handshake(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('MCP initialize timed out')), 10_000);
    socket.once('message', (data) => {
      clearTimeout(timer);
      const message = JSON.parse(String(data)) as { result?: unknown };
      if (message.result === undefined) reject(new Error(`initialize failed: ${String(data)}`));
      else {
        socket.send(MCP_INITIALIZED);
        resolve();
      }
    });
    socket.send(MCP_INITIALIZE);
  });
}

/**
 * Drive `connections × inFlight` requests in a closed loop: each answer sends the next request.
 * Only answers that arrive inside the measured window count. Bounded: it stops sending at the end of
 * the window and waits at most 10 s for the last answers.
 */
export async function runWsLoad(options: WsLoadOptions): Promise<LoadResult> {
  const { kind, connections, inFlight } = options;
  const conns: Conn[] = [];
  for (let i = 0; i < connections; i += 1) {
    const socket = await open(options.url);
    if (kind === 'mcp') await handshake(socket);
    conns.push({ socket, sentAt: new Float64Array(RING), nextId: 1 });
  }
  const loadWindow = new LoadWindow();

  const sendNext = (conn: Conn): void => {
    const id = conn.nextId++;
    conn.sentAt[id % RING] = performance.now();
    loadWindow.sent();
    conn.socket.send(requestFrame(kind, id));
  };

  for (const conn of conns) {
    conn.socket.on('message', (data) => {
      const now = performance.now();
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
      const id = message.id;
      if (loadWindow.answered(message, typeof id === 'number' ? conn.sentAt[id % RING] : undefined, now)) sendNext(conn);
    });
  }
  for (const conn of conns) for (let k = 0; k < inFlight; k += 1) sendNext(conn);

  const { windowMs, cpuMs } = await loadWindow.run(options, options.serverPid);
  await Promise.all(
    conns.map(
      (conn) =>
        new Promise<void>((resolve) => {
          conn.socket.once('close', () => resolve());
          conn.socket.close();
          setTimeout(() => {
            conn.socket.terminate();
            resolve();
          }, 2_000).unref();
        }),
    ),
  );
  return toResult(options.name, connections, inFlight, loadWindow.recorder, windowMs, loadWindow.errors, cpuMs);
}
