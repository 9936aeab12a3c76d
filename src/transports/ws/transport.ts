import { WebSocket, type RawData } from 'ws';
import type { CloseIntent, Transport, TransportSink } from '../types.js';
import {
  CLOSE_CODE_BY_INTENT,
  WS_CLOSE,
  closeCodeForError,
  resolveTransportOptions,
  type WebSocketTransportOptions,
} from './options.js';

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
  const config = resolveTransportOptions(options);
  const { timers } = config;
  let sink: TransportSink | undefined;
  const pending: Deferred[] = [];
  let reported = false;
  let closeRequested = false;
  let detached = false;
  let high = false;
  let peak = 0;
  let writesAfterClose = 0;
  let closeCode: number | undefined;
  let closeDetail: string | undefined;
  let awaitingPong = false;
  let heartbeatTimer: unknown;
  let closeTimer: unknown;

  const deliver = (fn: Deferred): void => {
    if (sink === undefined) {
      pending.push(fn);
      return;
    }
    try {
      fn(sink);
    } catch {
      // The sink must not throw; if it does, this connection cannot be trusted any more.
      closeWith(WS_CLOSE.internalError, 'sink threw');
    }
  };

  const stopHeartbeat = (): void => {
    if (heartbeatTimer !== undefined) timers.clearTimeout(heartbeatTimer);
    heartbeatTimer = undefined;
  };

  /** The output is gone: tell the sink once. */
  const reportClosed = (detail: string): void => {
    if (reported) return;
    reported = true;
    closeDetail = detail;
    stopHeartbeat();
    deliver((s) => s.onClosed(detail));
  };

  /** Close the socket with `code` (unless it is closing already) and report the output gone. */
  function closeWith(code: number, detail: string): void {
    if (!closeRequested && !detached) {
      closeRequested = true;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        closeCode = code;
        socket.close(code);
        if (config.closeTimeoutMs > 0) {
          closeTimer = timers.setTimeout(() => {
            closeTimer = undefined;
            socket.terminate();
          }, config.closeTimeoutMs);
        }
      }
    }
    reportClosed(detail);
  }

  const heartbeat = (): void => {
    heartbeatTimer = undefined;
    if (reported || socket.readyState !== WebSocket.OPEN) return;
    if (awaitingPong) {
      socket.terminate();
      reportClosed('heartbeat-timeout');
      return;
    }
    awaitingPong = true;
    socket.ping();
    heartbeatTimer = timers.setTimeout(heartbeat, config.heartbeatMs);
  };

  const onSent = (error?: Error | null): void => {
    if (error) {
      reportClosed(`send failed: ${error.message}`);
      return;
    }
    if (high && !reported && socket.bufferedAmount <= config.lowWaterMark) {
      high = false;
      deliver((s) => s.onPressure?.('normal'));
    }
  };

  const onMessage = (data: RawData, isBinary: boolean): void => {
    if (socket.readyState !== WebSocket.OPEN) {
      // The peer's close frame or the socket's end came first: the output is gone; the session drops it.
      reportClosed(`peer closed ${socket.readyState === WebSocket.CLOSING ? 'while closing' : ''}`.trim());
    }
    if (!isBinary) {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : toBuffer(data).toString('utf8');
      deliver((s) => s.onFrame(text));
      return;
    }
    if (config.binaryFrames === 'refuse') {
      closeWith(WS_CLOSE.unsupportedData, 'binary frame refused');
      return;
    }
    let text: string;
    try {
      text = utf8.decode(toBuffer(data));
    } catch {
      deliver((s) => s.onMalformed('invalid-utf8'));
      return;
    }
    deliver((s) => s.onFrame(text));
  };

  const onPong = (): void => {
    awaitingPong = false;
  };

  const onError = (error: Error): void => {
    const code = closeCodeForError(error);
    const name = (error as { code?: unknown }).code;
    closeWith(code, `ws-error ${code}${typeof name === 'string' ? ` ${name}` : ''}`);
    // ws closes the socket itself on a protocol error (so the code above is already on the wire).
    if (closeCode === undefined) closeCode = code;
  };

  const onClose = (code: number): void => {
    detach();
    if (closeCode === undefined) closeCode = code;
    reportClosed(`peer closed ${code}`);
  };

  function detach(): void {
    if (detached) return;
    detached = true;
    stopHeartbeat();
    if (closeTimer !== undefined) timers.clearTimeout(closeTimer);
    closeTimer = undefined;
    socket.off('message', onMessage);
    socket.off('pong', onPong);
    socket.off('close', onClose);
    socket.off('error', onError);
  }

  // The 'error' listener first: an unhandled 'error' would kill the process.
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.on('message', onMessage);
  socket.on('pong', onPong);
  if (socket.readyState === WebSocket.CLOSED) onClose(1006);

  const transport: WebSocketTransport = {
    kind: 'ws',
    get protocol() {
      return socket.protocol;
    },
    get outputOpen() {
      return !reported && !closeRequested && socket.readyState === WebSocket.OPEN;
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    get peakBufferedAmount() {
      return peak;
    },
    get underPressure() {
      return high;
    },
    get writesAfterClose() {
      return writesAfterClose;
    },
    get closeCode() {
      return closeCode;
    },
    get closeDetail() {
      return closeDetail;
    },
    start(s) {
      if (sink !== undefined) return;
      sink = s;
      for (const fn of pending.splice(0)) deliver(fn);
      if (config.heartbeatMs > 0 && !reported) heartbeatTimer = timers.setTimeout(heartbeat, config.heartbeatMs);
    },
    send(frame) {
      if (!transport.outputOpen) {
        writesAfterClose += 1;
        return;
      }
      socket.send(frame, onSent);
      const buffered = socket.bufferedAmount;
      if (buffered > peak) peak = buffered;
      if (buffered > config.closeWaterMark) {
        closeWith(WS_CLOSE.tryAgainLater, `overloaded: ${buffered} bytes buffered for a slow reader`);
      } else if (!high && buffered > config.highWaterMark) {
        high = true;
        deliver((s) => s.onPressure?.('high'));
      }
    },
    close(intent: CloseIntent) {
      closeWith(CLOSE_CODE_BY_INTENT[intent], `closed by server (${intent})`);
    },
  };
  return transport;
}
