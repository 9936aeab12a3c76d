import { WebSocket, type RawData } from 'ws';
import { SupervisorError } from '../../jsonrpc/errors.js';
import type { CloseIntent, Transport, TransportSink } from '../types.js';
import {
  CLOSE_CODE_BY_INTENT,
  WS_CLOSE,
  closeCodeForError,
  resolveTransportOptions,
  type ResolvedTransportOptions,
  type WebSocketTransportOptions,
} from './options.js';
import { TickCork, type Corkable } from './tick-cork.js';

/**
 * A {@link Transport} over one `ws` socket, with what it saw: the close code and detail, the
 * negotiated subprotocol and the peak of bytes buffered for the peer.
 *
 * @example
 * ```ts
 * const transport = createWebSocketTransport(socket);
 * supervisor.attach(transport);
 * transport.closeDetail; // e.g. 'heartbeat-timeout' once closed
 * ```
 */
export interface WebSocketTransport extends Transport {
  readonly kind: 'ws';
  /** The subprotocol negotiated in the handshake (`''` when none). */
  readonly protocol: string;
  /** Bytes queued for the peer now (`socket.bufferedAmount`). */
  readonly bufferedAmount: number;
  /** The most bytes ever queued for the peer right after a send: bounded by `closeWaterMark` plus one frame. */
  readonly peakBufferedAmount: number;
  /** `true` while the peer reads too slowly (between the high- and the low-water mark). */
  readonly underPressure: boolean;
  /** Frames offered after the output closed (dropped). Invariant 1 says this stays 0 behind the session's guard. */
  readonly writesAfterClose: number;
  /** The close code the server sent or, for a close the peer started, the code it received. */
  readonly closeCode: number | undefined;
  /** Why the output closed (`heartbeat-timeout`, `ws-error 1009 …`, `peer closed 1000`, …). */
  readonly closeDetail: string | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

type Deferred = (sink: TransportSink) => void;

/**
 * The transport of each socket, for the four socket listeners below: `ws` calls a listener with the
 * socket as `this`, so one shared function per event serves every connection, instead of four
 * closures per socket.
 */
const transportOf = new WeakMap<WebSocket, WsTransport>();

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  transportOf.get(this)?.onMessage(data, isBinary);
}
function onSocketPong(this: WebSocket): void {
  transportOf.get(this)?.onPong();
}
function onSocketError(this: WebSocket, error: Error): void {
  transportOf.get(this)?.onError(error);
}
function onSocketClose(this: WebSocket, code: number): void {
  transportOf.get(this)?.onClose(code);
}

/**
 * The transport as a class: its state in fields, its getters on the prototype, and only the four
 * callbacks the timers and `socket.send` need as per-connection closures.
 */
class WsTransport implements WebSocketTransport {
  readonly kind = 'ws' as const;
  private sink: TransportSink | undefined = undefined;
  private pending: Deferred[] | undefined = undefined;
  private reported = false;
  private closeRequested = false;
  private detached = false;
  private high = false;
  private peak = 0;
  private dropped = 0;
  private code: number | undefined = undefined;
  private detail: string | undefined = undefined;
  private awaitingPong = false;
  private heartbeatTimer: unknown = undefined;
  private closeTimer: unknown = undefined;

  private readonly cork: TickCork | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly config: ResolvedTransportOptions,
    stream?: Corkable,
  ) {
    this.cork = stream === undefined ? undefined : new TickCork(stream, config.highWaterMark / 4);
    if (transportOf.has(socket)) {
      throw new SupervisorError('ERR_TRANSPORT_IN_USE', 'this socket already has a transport; a socket carries one session');
    }
    transportOf.set(socket, this);
    // The 'error' listener first: an unhandled 'error' would kill the process.
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    if (socket.readyState === WebSocket.CLOSED) this.onClose(1006);
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  get outputOpen(): boolean {
    return !this.reported && !this.closeRequested && this.socket.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  get peakBufferedAmount(): number {
    return this.peak;
  }

  get underPressure(): boolean {
    return this.high;
  }

  get writesAfterClose(): number {
    return this.dropped;
  }

  get closeCode(): number | undefined {
    return this.code;
  }

  get closeDetail(): string | undefined {
    return this.detail;
  }

  start(sink: TransportSink): void {
    if (this.sink !== undefined) return;
    this.sink = sink;
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) for (const fn of pending) this.deliver(fn);
    if (this.config.heartbeatMs > 0 && !this.reported) {
      this.heartbeatTimer = this.config.timers.setTimeout(this.heartbeat, this.config.heartbeatMs);
    }
  }

  send(frame: string): void {
    if (!this.outputOpen) {
      this.dropped += 1;
      return;
    }
    const socket = this.socket;
    this.cork?.before();
    socket.send(frame, this.onSent);
    this.cork?.after(frame.length);
    const buffered = socket.bufferedAmount;
    if (buffered > this.peak) this.peak = buffered;
    if (buffered > this.config.closeWaterMark) {
      this.closeWith(WS_CLOSE.tryAgainLater, `overloaded: ${buffered} bytes buffered for a slow reader`);
    } else if (!this.high && buffered > this.config.highWaterMark) {
      this.high = true;
      this.deliver((s) => s.onPressure?.('high'));
    }
  }

  /** @internal Write what is corked now (before the socket is destroyed). */
  uncork(): void {
    this.cork?.flush();
  }

  close(intent: CloseIntent): void {
    this.closeWith(CLOSE_CODE_BY_INTENT[intent], `closed by server (${intent})`);
  }

  private deliver(fn: Deferred): void {
    if (this.sink === undefined) {
      (this.pending ??= []).push(fn);
      return;
    }
    try {
      fn(this.sink);
    } catch {
      // The sink must not throw; if it does, this connection cannot be trusted any more.
      this.closeWith(WS_CLOSE.internalError, 'sink threw');
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) this.config.timers.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** The output is gone: tell the sink once. */
  private reportClosed(detail: string): void {
    if (this.reported) return;
    this.reported = true;
    this.detail = detail;
    this.stopHeartbeat();
    this.deliver((s) => s.onClosed(detail));
  }

  /** Close the socket with `code` (unless it is closing already) and report the output gone. */
  private closeWith(code: number, detail: string): void {
    // What was sent before the close leaves now, ahead of the close frame (a listener closing in
    // the same tick destroys the socket).
    this.uncork();
    if (!this.closeRequested && !this.detached) {
      this.closeRequested = true;
      const socket = this.socket;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        this.code = code;
        socket.close(code);
        if (this.config.closeTimeoutMs > 0) {
          this.closeTimer = this.config.timers.setTimeout(this.onCloseTimeout, this.config.closeTimeoutMs);
        }
      }
    }
    this.reportClosed(detail);
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.stopHeartbeat();
    if (this.closeTimer !== undefined) this.config.timers.clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    const socket = this.socket;
    socket.off('message', onSocketMessage);
    socket.off('pong', onSocketPong);
    socket.off('close', onSocketClose);
    socket.off('error', onSocketError);
    transportOf.delete(socket);
  }

  // ---- callbacks (bound once per connection) ---------------------------------------------------

  private readonly heartbeat = (): void => {
    this.heartbeatTimer = undefined;
    const socket = this.socket;
    if (this.reported || socket.readyState !== WebSocket.OPEN) return;
    if (this.awaitingPong) {
      // Decide one turn later: a pong already in the socket's buffer (say, after a long busy spell
      // of this process) is read before the verdict.
      this.heartbeatTimer = this.config.timers.setTimeout(this.verdict, 0);
      return;
    }
    this.awaitingPong = true;
    socket.ping();
    this.heartbeatTimer = this.config.timers.setTimeout(this.heartbeat, this.config.heartbeatMs);
  };

  private readonly verdict = (): void => {
    this.heartbeatTimer = undefined;
    if (this.reported || this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.awaitingPong) {
      this.heartbeat();
      return;
    }
    this.socket.terminate();
    this.reportClosed('heartbeat-timeout');
  };

  private readonly onCloseTimeout = (): void => {
    this.closeTimer = undefined;
    this.socket.terminate();
  };

  private readonly onSent = (error?: Error | null): void => {
    if (error) {
      this.reportClosed(`send failed: ${error.message}`);
      return;
    }
    if (this.high && !this.reported && this.socket.bufferedAmount <= this.config.lowWaterMark) {
      this.high = false;
      this.deliver((s) => s.onPressure?.('normal'));
    }
  };

  // ---- socket events (through the shared listeners above) -------------------------------------

  /** @internal */
  onMessage(data: RawData, isBinary: boolean): void {
    if (this.socket.readyState !== WebSocket.OPEN) {
      // The peer's close frame or the socket's end came first: the output is gone; the session drops it.
      this.reportClosed('peer closed while closing');
    }
    if (!isBinary) {
      const text = toBuffer(data).toString('utf8');
      this.deliver((s) => s.onFrame(text));
      return;
    }
    if (this.config.binaryFrames === 'refuse') {
      this.closeWith(WS_CLOSE.unsupportedData, 'binary frame refused');
      return;
    }
    let text: string;
    try {
      text = utf8.decode(toBuffer(data));
    } catch {
      this.deliver((s) => s.onMalformed('invalid-utf8'));
      return;
    }
    this.deliver((s) => s.onFrame(text));
  }

  /** @internal */
  onPong(): void {
    this.awaitingPong = false;
  }

  /** @internal */
  onError(error: Error): void {
    const code = closeCodeForError(error);
    const name = (error as { code?: unknown }).code;
    this.closeWith(code, `ws-error ${code}${typeof name === 'string' ? ` ${name}` : ''}`);
    // ws closes the socket itself on a protocol error, so this code is already on the wire.
    if (this.code === undefined) this.code = code;
  }

  /** @internal */
  onClose(code: number): void {
    this.detach();
    if (this.code === undefined) this.code = code;
    this.reportClosed(`peer closed ${code}`);
  }
}

/**
 * Write now what the transport of `socket` holds corked for this tick, if any (before the socket
 * is destroyed).
 *
 * @example
 * ```ts
 * flushWebSocket(ws);
 * ws.terminate();
 * ```
 */
export function flushWebSocket(socket: WebSocket): void {
  transportOf.get(socket)?.uncork();
}

/**
 * Like {@link createWebSocketTransport}, with options already resolved (shared by every connection
 * of a listener).
 *
 * @example
 * ```ts
 * const config = resolveTransportOptions({ heartbeatMs: 10_000 });
 * const transport = createResolvedWebSocketTransport(socket, config);
 * ```
 *
 * `stream` is the upgraded TCP socket when the caller has it (the `'upgrade'` event's socket): the
 * frames sent within one tick are then corked and leave in one `writev` at `process.nextTick`.
 */
export function createResolvedWebSocketTransport(
  socket: WebSocket,
  config: ResolvedTransportOptions,
  stream?: Corkable,
): WebSocketTransport {
  return new WsTransport(socket, config, stream);
}

/**
 * Adapt one `ws` socket to the {@link Transport} interface.
 *
 * - Text frames → `onFrame`. Binary frames are decoded as UTF-8 (`binaryFrames: 'text'`, the default;
 *   invalid UTF-8 → `onMalformed('invalid-utf8')`, which the runtime answers with −32700 and the session
 *   lives) or refused with close 1003 (`binaryFrames: 'refuse'`).
 * - A `ws` error (1009 oversize, 1007 invalid UTF-8 in a text frame, 1002 other protocol errors) closes
 *   the socket with that code and reports the output gone; the code comes from the error, since
 *   `'close'` then says 1006.
 * - `'close'`, a failed send and a missed heartbeat (no pong by the next ping → `terminate()`, detail
 *   `heartbeat-timeout`) report the output gone.
 * - Backpressure: above `highWaterMark` bytes buffered → `onPressure('high')` (new requests get −32002);
 *   below `lowWaterMark` → `onPressure('normal')`; above `closeWaterMark` → close 1013.
 * - `close(intent)`: normal → 1000, going-away → 1001, internal-error → 1011, overloaded → 1013; the
 *   socket is terminated if the closing handshake has not finished within `closeTimeoutMs`.
 *
 * An `'error'` listener is attached before anything else; every listener and timer is removed when the
 * socket closes.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { createWebSocketTransport } from 'session-supervisor/ws';
 *
 * const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
 * wss.on('connection', (socket) => {
 *   if (supervisor.accepting) supervisor.attach(createWebSocketTransport(socket));
 *   else socket.close(1001);
 * });
 * ```
 */
export function createWebSocketTransport(socket: WebSocket, options: WebSocketTransportOptions = {}): WebSocketTransport {
  return new WsTransport(socket, resolveTransportOptions(options));
}
