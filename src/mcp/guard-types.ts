import type { InspectionEvent, Observer } from 'xstate';
import type { CancelReason } from '../../machines/reasons.js';
import type { Clock } from '../runtime/clock.js';
import type { ConnectionActor } from '../runtime/driver.js';
import type { Logger } from '../runtime/logger.js';
import type { StdioStreams } from './guard-stdio.js';

/**
 * The shape of an official-SDK transport (`@modelcontextprotocol/sdk`'s `Transport`), kept
 * structural so this library does not depend on the SDK.
 *
 * @example
 * ```ts
 * const transport: SdkTransport = new StdioServerTransport();
 * ```
 */
export interface SdkTransport {
  start(): Promise<void>;
  send(message: any, options?: any): Promise<void>;
  close(): Promise<void>;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: any, extra?: any) => void) | undefined;
  sessionId?: string | undefined;
  setProtocolVersion?: ((version: string) => void) | undefined;
  /** SDK 2.x: the server's protocol versions, for the HTTP transports' header check. */
  setSupportedProtocolVersions?: ((versions: string[]) => void) | undefined;
  /** SDK 2.x HTTP transports: how to answer a missing OAuth scope. */
  setScopeChallengeResolver?: ((resolver: any) => void) | undefined;
  /** SDK 2.x: one underlying request per outbound request (Streamable HTTP). */
  readonly hasPerRequestStream?: boolean;
}

/**
 * Options of {@link guardTransport}.
 *
 * @example
 * ```ts
 * guardTransport(new StdioServerTransport(), { drainTimeoutMs: 5000 });
 * ```
 */
export interface GuardOptions {
  /** How long to let in-flight requests finish after the input ended. Default 10 000. */
  drainTimeoutMs?: number;
  /**
   * Streamable HTTP only (the SDK's `StreamableHTTPServerTransport`, its requests passed through
   * `guarded.handleRequest`): close the session after this long with no request in flight and no
   * HTTP exchange open — a client that went away without a DELETE. Default 300 000; 0 turns it off.
   */
  idleTimeoutMs?: number;
  /**
   * Serve over these streams: the guard reads and writes them itself (one JSON-RPC message per
   * line) and never starts the SDK transport it wraps. Needed for a `StdioServerTransport` built
   * over other streams than `process.stdin` / `process.stdout`; one built without arguments is
   * served on those by default.
   */
  stdio?: StdioStreams;
  /** Stdio: the longest line accepted, in bytes; a longer one is answered −32004 and skipped. Default 4 MiB. */
  maxLineBytes?: number;
  logger?: Logger;
  clock?: Clock;
  /** An xstate inspection observer for the guard's connection actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/**
 * What a guard has seen and done.
 *
 * @example
 * ```ts
 * guarded.stats().blockedSends; // frames the SDK offered after the session closed
 * ```
 */
export interface GuardStats {
  state: 'connected' | 'draining' | 'closed';
  inFlight: number;
  requests: number;
  /** Responses the SDK server sent for requests that were still live. */
  completed: number;
  cancelled: Record<CancelReason, number>;
  /** Frames blocked: sent after the close, or responses to requests already cancelled. */
  blockedSends: number;
  /** Why the session closed (`null`: it drained idle). */
  closeReason: CancelReason | null;
}

/**
 * An SDK transport run by the connection machine. Pass it to `server.connect()` instead of the
 * transport it wraps.
 *
 * @example
 * ```ts
 * const guarded: GuardedTransport = guardTransport(new StdioServerTransport());
 * await server.connect(guarded);
 * await guarded.closed;
 * ```
 */
export interface GuardedTransport extends SdkTransport {
  /** The connection actor its driver runs (for inspection). */
  readonly actor: ConnectionActor;
  readonly state: 'connected' | 'draining' | 'closed';
  /** Resolves with the final stats once the session closed. */
  readonly closed: Promise<GuardStats>;
  stats(): GuardStats;
  /** Stop taking requests; let the in-flight ones finish within `drainTimeoutMs`, then close. */
  drain(): void;
  /**
   * Streamable HTTP: hand an HTTP request to the SDK transport (`transport.handleRequest`), with the
   * guard watching the exchange (an open exchange keeps the session from idling out).
   */
  handleRequest(req: HttpRequestLike, res: HttpResponseLike, parsedBody?: unknown): Promise<void>;
}

/**
 * The parts of a `node:http` request the guard passes on.
 *
 * @example
 * ```ts
 * const req: HttpRequestLike = incomingMessage;
 * ```
 */
export type HttpRequestLike = object;

/**
 * The parts of a `node:http` response the guard watches.
 *
 * @example
 * ```ts
 * const res: HttpResponseLike = serverResponse;
 * ```
 */
export interface HttpResponseLike {
  once(event: 'close', listener: () => void): unknown;
}
