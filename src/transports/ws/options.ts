import { SupervisorError } from '../../jsonrpc/errors.js';
import type { CloseIntent } from '../types.js';

/**
 * The timers a WebSocket transport schedules on (heartbeat, close deadline). A supervisor's `Clock`
 * fits; the default is the global `setTimeout` / `clearTimeout`.
 *
 * @example
 * ```ts
 * const timers: TransportTimers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
 * ```
 */
export interface TransportTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Options of one WebSocket transport ({@link createWebSocketTransport}, {@link attachWebSocket},
 * {@link listenWebSocket}).
 *
 * @example
 * ```ts
 * const options: WebSocketTransportOptions = { heartbeatMs: 15_000, highWaterMark: 1 << 20 };
 * ```
 */
export interface WebSocketTransportOptions {
  /** Ping interval; a peer that has not answered the previous ping by the next one is terminated. `0` turns it off. Default 30 000. */
  heartbeatMs?: number;
  /** Bytes buffered for the peer above which new requests are refused (−32002). Default 8 MiB. */
  highWaterMark?: number;
  /** Bytes buffered below which requests are admitted again. Default `highWaterMark / 2`. */
  lowWaterMark?: number;
  /** Bytes buffered above which the socket is closed with 1013. Default `2 × highWaterMark`. */
  closeWaterMark?: number;
  /** Binary frames: `'text'` decodes them as UTF-8 (invalid → −32700, the session lives); `'refuse'` closes with 1003. Default `'text'`. */
  binaryFrames?: 'text' | 'refuse';
  /** After the server starts a close, terminate the socket if the closing handshake has not finished by then. Default 5 000. */
  closeTimeoutMs?: number;
  /** Timers for the heartbeat and the close deadline. Default: the global timers. */
  timers?: TransportTimers;
}

/**
 * The options with every default filled in.
 *
 * @example
 * ```ts
 * const resolved: ResolvedTransportOptions = resolveTransportOptions({ heartbeatMs: 0 });
 * ```
 */
export interface ResolvedTransportOptions {
  heartbeatMs: number;
  highWaterMark: number;
  lowWaterMark: number;
  closeWaterMark: number;
  binaryFrames: 'text' | 'refuse';
  closeTimeoutMs: number;
  timers: TransportTimers;
}

/**
 * WebSocket close codes the transport uses.
 *
 * @example
 * ```ts
 * socket.close(WS_CLOSE.goingAway);
 * ```
 */
export const WS_CLOSE = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
});

/**
 * How the runtime's close intents map to WebSocket close codes.
 *
 * @example
 * ```ts
 * CLOSE_CODE_BY_INTENT['going-away']; // 1001
 * ```
 */
export const CLOSE_CODE_BY_INTENT: Readonly<Record<CloseIntent, number>> = Object.freeze({
  normal: WS_CLOSE.normal,
  'going-away': WS_CLOSE.goingAway,
  'internal-error': WS_CLOSE.internalError,
  overloaded: WS_CLOSE.tryAgainLater,
});

const ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_INVALID_UTF8: WS_CLOSE.invalidPayload,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: WS_CLOSE.messageTooBig,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: WS_CLOSE.messageTooBig,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: WS_CLOSE.policyViolation,
};

/**
 * The close code that belongs to an `'error'` event of a `ws` socket. After a protocol error `ws`
 * reports 1006 on `'close'`, so the code is taken from the error: invalid UTF-8 → 1007, an oversize
 * message → 1009, other protocol errors → 1002, anything else → 1011.
 *
 * @example
 * ```ts
 * closeCodeForError(Object.assign(new Error('x'), { code: 'WS_ERR_INVALID_UTF8' })); // 1007
 * ```
 */
export function closeCodeForError(error: unknown): number {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return WS_CLOSE.internalError;
  return ERROR_CLOSE_CODES[code] ?? (code.startsWith('WS_ERR_') ? WS_CLOSE.protocolError : WS_CLOSE.internalError);
}

const defaultTimers: TransportTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

function check(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SupervisorError('ERR_INVALID_OPTION', `${name} must be a finite number >= 0 (got ${String(value)})`);
  }
  return value;
}

/**
 * Fill in the defaults and check the values (`ERR_INVALID_OPTION` on a negative number or on
 * marks out of order).
 *
 * @example
 * ```ts
 * resolveTransportOptions({}).highWaterMark; // 8388608
 * ```
 */
export function resolveTransportOptions(options: WebSocketTransportOptions = {}): ResolvedTransportOptions {
  const heartbeatMs = check('heartbeatMs', options.heartbeatMs, 30_000);
  const highWaterMark = check('highWaterMark', options.highWaterMark, 8 * 1024 * 1024);
  const lowWaterMark = check('lowWaterMark', options.lowWaterMark, Math.floor(highWaterMark / 2));
  const closeWaterMark = check('closeWaterMark', options.closeWaterMark, 2 * highWaterMark);
  const closeTimeoutMs = check('closeTimeoutMs', options.closeTimeoutMs, 5_000);
  if (lowWaterMark > highWaterMark || highWaterMark > closeWaterMark) {
    throw new SupervisorError('ERR_INVALID_OPTION', 'expected lowWaterMark <= highWaterMark <= closeWaterMark');
  }
  const binaryFrames = options.binaryFrames ?? 'text';
  if (binaryFrames !== 'text' && binaryFrames !== 'refuse') {
    throw new SupervisorError('ERR_INVALID_OPTION', `binaryFrames must be 'text' or 'refuse'`);
  }
  return {
    heartbeatMs,
    highWaterMark,
    lowWaterMark,
    closeWaterMark,
    binaryFrames,
    closeTimeoutMs,
    timers: options.timers ?? defaultTimers,
  };
}
