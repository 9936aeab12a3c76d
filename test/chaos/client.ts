// A chaos client: a raw `ws` WebSocket that speaks MCP, with its own ledger and the means to misbehave
// (reset the TCP connection, stop reading, send broken frames, drip a message in fragments).
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Ledger, type LedgerFigures, type Response } from './ledger.js';

/** Shared by every client of a run: which server runs now, and when each shut down (requests after it are exempt). */
export interface RunClock {
  /** The server now serving (1, then 2 after the restart). */
  generation: number;
  /** When the server of a generation was sent SIGTERM. */
  shutdownStartedAt: Map<number, number>;
}

/** Requests sent this long before the server's SIGTERM may race its close (see exempt()): a draining
 * session closes once its handlers are idle, and frames still in transit or unread then (megabytes, for
 * a stalled reader on a loaded server) are never seen by it. */
export const SHUTDOWN_RACE_MS = 3_000;

/** Close codes the client's own fault provokes: requests still pending then may go unanswered. */
const FAULT_CLOSE_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1013]);

/** One WebSocket connection of the chaos run. */
export class ChaosClient {
  readonly ledger: Ledger;
  /** Close code seen by the client (1006: no close frame). */
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  /** Notifications and requests the server sent. */
  serverMessages = 0;
  /** The fault provokes a close without a close frame (e.g. a ping flood): pending requests are exempt then. */
  abruptCloseExpected = false;
  /** The server generation this client connected to. */
  readonly generation: number;
  private closedByClient = false;
  private nextId = 1;

  private constructor(
    readonly ws: WebSocket,
    figures: LedgerFigures,
    label: string,
    private readonly run: RunClock,
  ) {
    this.ledger = new Ledger(figures, label);
    this.generation = run.generation;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closeCode = code;
        const shutdown = this.run.shutdownStartedAt.get(this.generation);
        const when = shutdown === undefined ? '' : `, shutdown ${(performance.now() - shutdown).toFixed(0)} ms before the close`;
        this.ledger.close((sentAt) => this.exempt(sentAt), ` (close ${code}, server ${this.generation}${when})`);
        resolve(code);
      });
    });
    ws.on('message', (data: Buffer) => {
      let message: unknown;
      try {
        message = JSON.parse(data.toString('utf8'));
      } catch {
        this.ledger.problems.push(`${label}: server sent text that is not JSON`);
        return;
      }
      if (typeof message === 'object' && message !== null && 'method' in message) {
        this.serverMessages += 1;
        return;
      }
      this.ledger.received(message as Response);
    });
    ws.on('error', () => {
      // The close event follows; the ledger reads the code.
    });
  }

  /** Connect; rejects when the server refuses (e.g. 503 while it drains) or is not there. */
  static connect(url: string, figures: LedgerFigures, label: string, run: RunClock): Promise<ChaosClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
      const onError = (error: Error): void => reject(error);
      ws.once('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        resolve(new ChaosClient(ws, figures, label, run));
      });
    });
  }

  private exempt(sentAt: number): boolean {
    if (this.closedByClient) return true;
    if (this.closeCode !== undefined && FAULT_CLOSE_CODES.has(this.closeCode)) return true;
    if (this.abruptCloseExpected && this.closeCode === 1006) return true;
    const shutdown = this.run.shutdownStartedAt.get(this.generation);
    // A frame still on its way (or unread in a busy server's socket) when the server closes the idle,
    // draining session is never seen by it: the close races the frame.
    return shutdown !== undefined && sentAt >= shutdown - SHUTDOWN_RACE_MS;
  }

  /** Whether this client's server was shut down (expectations then no longer hold). */
  get serverShutDown(): boolean {
    return this.run.shutdownStartedAt.has(this.generation);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A fresh string id (`c1`, `c2`, …); numbers and 0 are used on purpose by the faults. */
  freshId(): string {
    return `c${this.nextId++}`;
  }

  /** Send a request; the promise gives its answer or `undefined` (cancelled, or the connection closed). */
  request(method: string, params?: unknown, options: { id?: string | number; check?: (r: Response) => boolean } = {}): {
    id: string | number;
    answer: Promise<Response | undefined>;
  } {
    const id = options.id ?? this.freshId();
    const answer = this.ledger.sent(id, method, options.check);
    this.send(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
    return { id, answer };
  }

  /** A tools/call request. */
  callTool(name: string, args: Record<string, unknown>, check?: (r: Response) => boolean): { id: string | number; answer: Promise<Response | undefined> } {
    return this.request('tools/call', { name, arguments: args }, check === undefined ? {} : { check });
  }

  notify(method: string, params?: unknown): void {
    this.send(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
  }

  /** MCP cancel, followed by a fence (`ping`) whose answer proves the server read the cancel. */
  cancel(id: string | number): void {
    this.ledger.cancelled(id);
    this.notify('notifications/cancelled', { requestId: id, reason: 'chaos' });
    const fence = this.request('ping');
    this.ledger.fence(fence.id, [id]);
  }

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    if (this.open) this.ws.send(data, { binary });
  }

  /** The MCP handshake. Resolves with false if it did not complete (the connection went away). */
  async initialize(): Promise<boolean> {
    const { answer } = this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'chaos', version: '1.0.0' },
    });
    const response = await answer;
    if (response?.result === undefined) return false;
    this.notify('notifications/initialized');
    return true;
  }

  /** The TCP socket under the WebSocket (for a reset and for pausing reads). */
  private get socket(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  /** Close cleanly (1000) and wait for the close. */
  async close(): Promise<void> {
    this.closedByClient = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    await Promise.race([this.closed, sleep(5_000)]);
    if (this.closeCode === undefined) this.ws.terminate();
    await this.closed;
  }

  /** Reset the TCP connection (RST), no close frame. */
  async reset(): Promise<void> {
    this.closedByClient = true;
    const socket = this.socket;
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
    await this.closed;
  }

  /** Stop reading from the socket (the server's writes pile up) / read again. */
  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }
}

/** Wait for a promise, at most `ms`; `undefined` when the time ran out (a hang guard). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
