import type { IncomingMessage } from 'node:http';
import { SupervisorError } from '../../jsonrpc/errors.js';
import { MCP_DISCONNECT_POLICY, type DisconnectRule } from '../../mcp/disconnect-policy.js';
import type { RequestGuardOptions } from '../request-guard.js';
import type { Transport } from '../types.js';
import type { TransportTimers } from '../ws/options.js';
import { createMemoryEventStore, type EventStore } from './event-store.js';

/**
 * What the HTTP handler needs of a supervisor. A `Supervisor` from `createSupervisor()` is one; `S`
 * is what `attach` returns (a `Session`; its `inFlight` and `cancellingCount` tell the idle reaper
 * whether a legacy session is busy).
 *
 * @example
 * ```ts
 * const host: HttpSessionHost = createSupervisor({ methods });
 * ```
 */
export interface HttpSessionHost<S = unknown> {
  /** `true` while new sessions are accepted. */
  readonly accepting: boolean;
  /** Run a session over a transport. */
  attach(transport: Transport): S;
  /** An MCP server's own header check (`createMcpServer`), used when the options give none. */
  readonly mcp?: { checkHeaders?(request: IncomingMessage, message: unknown): string | undefined };
}

/**
 * Options of {@link createHttpHandler} and {@link listenHttp}.
 *
 * @example
 * ```ts
 * const options: HttpHandlerOptions = {
 *   path: '/mcp',
 *   maxSessions: 1000,
 *   sessionIdleTimeoutMs: 10 * 60_000,
 *   allowedOrigins: ['https://app.example.com'],
 * };
 * ```
 */
export interface HttpHandlerOptions extends RequestGuardOptions {
  /** The MCP endpoint's path (query strings ignored). Default `'/mcp'`. */
  path?: string;
  /** Largest request body in bytes; larger → HTTP 413 without buffering it. Default 4 MiB. */
  maxBodyBytes?: number;
  /** A request body must arrive within this many ms of the headers, else HTTP 408. Default 30 000. */
  bodyTimeoutMs?: number;
  /** Legacy sessions open at once; `initialize` beyond → HTTP 503 with `Retry-After`. Default 10 000. */
  maxSessions?: number;
  /** A legacy session with nothing in flight and no stream open for this long is closed. `0` = never. Default 30 min. */
  sessionIdleTimeoutMs?: number;
  /** `Retry-After` seconds on a 503. Default 5. */
  retryAfterSeconds?: number;
  /** Comment lines (`:`) on an open SSE stream every this many ms, so intermediaries keep it. `0` = off. Default 15 000. */
  keepAliveMs?: number;
  /** Bytes queued for a client that reads an SSE stream too slowly, above which its response is dropped (as if it left). Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Where legacy SSE events are kept for `Last-Event-ID` resumption; `false` turns resumption off. Default: in memory. */
  eventStore?: EventStore | false;
  /** The disconnect policy rows (data): what a closed stream means per protocol version. Default: MCP's. */
  disconnectPolicy?: readonly DisconnectRule[];
  /**
   * HTTP status of a modern JSON answer that is a JSON-RPC error (the 2026-07-28 mapping: −32601 →
   * 404; −32700, −32600, −32602, −32020, −32021, −32022 → 400; everything else 200).
   */
  errorStatus?(code: number): number;
  /**
   * More header checks for a modern POST after the standard ones (e.g. `Mcp-Param-*` against a
   * tool's `x-mcp-header` schema): return what is wrong → HTTP 400 with −32020 and that text;
   * `undefined` → admitted. `message` is the parsed body.
   */
  checkHeaders?(request: IncomingMessage, message: unknown): string | undefined;
  /** Timers for keep-alives, body timeouts and the idle reaper. Default: the global timers. */
  timers?: TransportTimers;
}

/**
 * The options with every default filled in.
 *
 * @example
 * ```ts
 * resolveHttpOptions({}).maxSessions; // 10000
 * ```
 */
export interface ResolvedHttpOptions {
  path: string;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  maxSessions: number;
  sessionIdleTimeoutMs: number;
  retryAfterSeconds: number;
  keepAliveMs: number;
  maxBufferedBytes: number;
  eventStore: EventStore | undefined;
  disconnectPolicy: readonly DisconnectRule[];
  errorStatus(code: number): number;
  checkHeaders: ((request: IncomingMessage, message: unknown) => string | undefined) | undefined;
  timers: TransportTimers;
}

const MODERN_ERROR_STATUS: ReadonlyMap<number, number> = new Map([
  [-32700, 400],
  [-32600, 400],
  [-32601, 404],
  [-32602, 400],
  [-32020, 400],
  [-32021, 400],
  [-32022, 400],
]);

/**
 * The 2026-07-28 HTTP status of a JSON-RPC error answered as JSON.
 *
 * @example
 * ```ts
 * modernErrorStatus(-32601); // 404
 * modernErrorStatus(-32603); // 200
 * ```
 */
export function modernErrorStatus(code: number): number {
  return MODERN_ERROR_STATUS.get(code) ?? 200;
}

const defaultTimers: TransportTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

function check(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new SupervisorError('ERR_INVALID_OPTION', `${name} must be a finite number >= ${min} (got ${String(value)})`);
  }
  return value;
}

/**
 * Fill in the defaults and check the values (`ERR_INVALID_OPTION` on a bad one).
 *
 * @example
 * ```ts
 * resolveHttpOptions({ path: '/rpc' }).path; // '/rpc'
 * ```
 */
export function resolveHttpOptions(options: HttpHandlerOptions = {}): ResolvedHttpOptions {
  const path = options.path ?? '/mcp';
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new SupervisorError('ERR_INVALID_OPTION', `path must start with '/' (got ${String(path)})`);
  }
  return {
    path,
    maxBodyBytes: check('maxBodyBytes', options.maxBodyBytes, 4 * 1024 * 1024, 1),
    bodyTimeoutMs: check('bodyTimeoutMs', options.bodyTimeoutMs, 30_000, 1),
    maxSessions: check('maxSessions', options.maxSessions, 10_000),
    sessionIdleTimeoutMs: check('sessionIdleTimeoutMs', options.sessionIdleTimeoutMs, 30 * 60_000),
    retryAfterSeconds: Math.ceil(check('retryAfterSeconds', options.retryAfterSeconds, 5)),
    keepAliveMs: check('keepAliveMs', options.keepAliveMs, 15_000),
    maxBufferedBytes: check('maxBufferedBytes', options.maxBufferedBytes, 8 * 1024 * 1024, 1),
    eventStore: options.eventStore === false ? undefined : (options.eventStore ?? createMemoryEventStore()),
    disconnectPolicy: options.disconnectPolicy ?? MCP_DISCONNECT_POLICY,
    errorStatus: options.errorStatus ?? modernErrorStatus,
    checkHeaders: options.checkHeaders,
    timers: options.timers ?? defaultTimers,
  };
}
