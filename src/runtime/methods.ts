import type { z } from 'zod';
import type { RequestId } from '../../machines/handler.js';
import type { JsonRpcRequest } from '../jsonrpc/schema.js';

/**
 * What a handler sees of its session.
 *
 * @example
 * ```ts
 * ctx.session.notify('log', { line: 'hello' });
 * ```
 */
export interface SessionHandle {
  /** The session's id (`s1`, `s2`, …). */
  readonly id: string;
  /** The transport's kind (`ws`, `stdio`, `memory`, …). */
  readonly transportKind: string;
  /** The connection state: `connected`, `draining` or `closed`. */
  readonly state: 'connected' | 'draining' | 'closed';
  /** Per-session storage for dialects and handlers (e.g. the negotiated protocol version). */
  readonly locals: Map<string, unknown>;
  /**
   * `locals.get(key)` without making the storage when nothing was stored yet (a session of one
   * HTTP exchange usually never stores anything). Optional, so a plain object can stand in for a
   * session; read through {@link readLocal}.
   */
  peekLocal?(key: string): unknown;
  /** Send a notification through the send guard; `false` if the guard blocked it. */
  notify(method: string, params?: unknown): boolean;
}

/**
 * The second argument of every handler.
 *
 * @example
 * ```ts
 * const handler = async (params: unknown, ctx: RequestContext) => {
 *   await sleep(1000, { signal: ctx.signal });
 *   return { ok: true };
 * };
 * ```
 */
export interface RequestContext {
  /**
   * Aborted exactly when the request is cancelled; `signal.reason` is a {@link CancelledError}.
   * Created on first read, so a handler that never reads it costs no `AbortController`.
   */
  readonly signal: AbortSignal;
  /**
   * Whether the request was cancelled, read from its handler actor without creating the signal:
   * the cheap check for code that runs often (progress, logging).
   */
  readonly cancelled: boolean;
  /**
   * Run `listener` once when the request is cancelled, with the same {@link CancelledError} that
   * `signal.reason` holds; returns a function that removes it. Listeners run in the order they were
   * added, after the signal's own listeners; one removed before its turn is not called, and one
   * added after the cancel (or while it runs) runs at once. This is the cheap way to listen: no `AbortController`, no event dispatch (a
   * runtime cancels 10k such handlers several times faster than 10k listening signals). A listener
   * that throws is logged and never reaches the runtime.
   *
   * @example
   * ```ts
   * const wait: MethodHandler = (_params, ctx) =>
   *   new Promise((resolve, reject) => {
   *     const timer = setTimeout(resolve, 1000, 'done');
   *     ctx.onCancel((reason) => {
   *       clearTimeout(timer);
   *       reject(reason);
   *     });
   *   });
   * ```
   */
  onCancel(listener: (reason: CancelledError) => void): () => void;
  readonly requestId: RequestId;
  readonly method: string;
  /** The request as it arrived (for `_meta`, `progressToken`, …). */
  readonly message: JsonRpcRequest;
  readonly session: SessionHandle;
}

/**
 * A handler: gets the (validated) params and the request context; returns the result or throws.
 * Throw a `JsonRpcError` to choose the error; anything else becomes −32603 with no stack on the wire.
 *
 * @example
 * ```ts
 * const echo: MethodHandler = (params) => params;
 * ```
 */
export type MethodHandler<P = unknown, R = unknown> = (params: P, ctx: RequestContext) => R | Promise<R>;

/**
 * A method with an optional zod schema for its params (failing params → −32602).
 *
 * @example
 * ```ts
 * const echo: MethodDefinition = { params: z.object({ text: z.string() }), handler: (p) => p };
 * ```
 */
export interface MethodDefinition<P = any, R = unknown> {
  readonly params?: z.ZodType<P, any>;
  readonly handler: MethodHandler<P, R>;
}

/**
 * The method table: a name → a handler or a definition.
 *
 * @example
 * ```ts
 * const methods: MethodTable = { ping: () => ({}), echo: defineMethod({ params: Echo, handler: (p) => p }) };
 * ```
 */
export type MethodTable = Record<string, MethodDefinition | MethodHandler<any, unknown>>;

/**
 * A notification handler: runs for a notification from the peer; never answered. Errors are logged.
 *
 * @example
 * ```ts
 * const onInitialized: NotificationHandler = (_params, session) => session.locals.set('ready', true);
 * ```
 */
export type NotificationHandler = (params: unknown, session: SessionHandle) => void | Promise<void>;

/**
 * Define a method with typed params inferred from its zod schema.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * const add = defineMethod({
 *   params: z.object({ a: z.number(), b: z.number() }),
 *   handler: ({ a, b }) => a + b,
 * });
 * ```
 */
export function defineMethod<S extends z.ZodType, R>(definition: {
  params: S;
  handler: MethodHandler<z.output<S>, R>;
}): MethodDefinition<z.output<S>, R> {
  return definition as MethodDefinition<z.output<S>, R>;
}

/**
 * The error a cancelled handler's `signal.reason` holds.
 *
 * @example
 * ```ts
 * ctx.signal.addEventListener('abort', () => {
 *   const err = ctx.signal.reason as CancelledError;
 *   console.log(err.reason); // 'client', 'transport-closed', …
 * }, { once: true });
 * ```
 */
export class CancelledError extends Error {
  readonly code = 'ERR_REQUEST_CANCELLED';
  readonly reason: import('../../machines/reasons.js').CancelReason;

  constructor(reason: import('../../machines/reasons.js').CancelReason) {
    super(`request cancelled: ${reason}`);
    this.name = 'CancelledError';
    this.reason = reason;
  }
}

/**
 * Read one session-local value, without making the session's storage if the session can say it
 * has none (`peekLocal`).
 *
 * @example
 * ```ts
 * const version = readLocal(ctx.session, 'mcp.protocolVersion');
 * ```
 */
export function readLocal(session: SessionHandle, key: string): unknown {
  return session.peekLocal !== undefined ? session.peekLocal(key) : session.locals.get(key);
}
