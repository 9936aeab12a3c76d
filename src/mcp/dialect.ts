import type { RequestId } from '../../machines/handler.js';
import { ErrorCode } from '../jsonrpc/errors.js';
import type { Dialect } from '../runtime/dialect.js';
import { readLocal, type SessionHandle } from '../runtime/methods.js';
import { admitModernRequest, isModernRequest } from './modern.js';

/** Session-local keys the MCP dialect keeps (in `session.locals`). */
const PROTOCOL_VERSION = 'mcp.protocolVersion';
const CLIENT_INFO = 'mcp.clientInfo';
const CLIENT_INITIALIZED = 'mcp.clientInitialized';

/** Requests a client may send before `initialize` has been answered. */
const BEFORE_INITIALIZE = new Set(['initialize', 'ping']);

/**
 * What the MCP dialect knows about one session: the negotiated protocol version (once `initialize`
 * was answered), the client's `clientInfo`, and whether `notifications/initialized` arrived.
 *
 * @example
 * ```ts
 * const { protocolVersion } = mcpSessionInfo(ctx.session);
 * ```
 */
export interface McpSessionInfo {
  protocolVersion: string | undefined;
  clientInfo: unknown;
  clientInitialized: boolean;
}

/**
 * Read what the MCP dialect knows about a session.
 *
 * @example
 * ```ts
 * const run = (args: unknown, ctx: ToolContext) => mcpSessionInfo(ctx.session).protocolVersion;
 * ```
 */
export function mcpSessionInfo(session: SessionHandle): McpSessionInfo {
  return {
    protocolVersion: readLocal(session, PROTOCOL_VERSION) as string | undefined,
    clientInfo: readLocal(session, CLIENT_INFO),
    clientInitialized: readLocal(session, CLIENT_INITIALIZED) === true,
  };
}

/** Record the answered `initialize` (called by the `initialize` handler). */
export function markInitialized(session: SessionHandle, protocolVersion: string, clientInfo: unknown): void {
  session.locals.set(PROTOCOL_VERSION, protocolVersion);
  session.locals.set(CLIENT_INFO, clientInfo);
}

/** Record `notifications/initialized`. */
export function markClientInitialized(session: SessionHandle): void {
  session.locals.set(CLIENT_INITIALIZED, true);
}

const readCancelledId = (params: unknown): RequestId | undefined => {
  if (typeof params !== 'object' || params === null) return undefined;
  const id = (params as { requestId?: unknown }).requestId;
  // 0 is a valid id: compare by type, never by truthiness.
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
};

/**
 * Options of {@link createMcpDialect}.
 *
 * @example
 * ```ts
 * createMcpDialect({ openMethods: ['echo'] });
 * ```
 */
export interface McpDialectOptions {
  /** Request methods admitted before `initialize` besides `initialize` and `ping` (e.g. a plain JSON-RPC `echo`). */
  openMethods?: readonly string[];
}

/**
 * The MCP dialect:
 * - `notifications/cancelled { requestId, reason }` cancels that request with reason `client`, and
 *   no response goes out for it (spec); unknown or finished ids are ignored; id 0 is an id.
 * - `initialize` cannot be cancelled.
 * - After a cancel for `request-timeout` (−32001), `drain-timeout` or `shutdown` (−32800, with the
 *   reason in `data`) the request is answered with an error while the output works; after `client`,
 *   `transport-closed` or `session-failed` nothing is sent.
 * - Before `initialize` was answered only `initialize`, `ping` and the `openMethods` are admitted;
 *   anything else gets −32005 (`ErrorCode.NotInitialized`). A second `initialize` gets −32600.
 * - No JSON-RPC batches (removed from MCP in 2025-06-18).
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { createMcpDialect, mcpMethods } from 'session-supervisor/mcp';
 *
 * const dialect = createMcpDialect({ openMethods: ['health'] });
 * const supervisor = createSupervisor({ dialect, ...mcpMethods({ name: 'demo', version: '1.0.0', methods: { health: () => ({ status: 'ok' }) } }) });
 * ```
 */
export function createMcpDialect(options: McpDialectOptions = {}): Dialect {
  const open = new Set([...BEFORE_INITIALIZE, ...(options.openMethods ?? [])]);
  return { ...mcpDialect, admit: admitAfterInitialize(open) };
}

/**
 * MCP admission, per request. A request that speaks the modern era (2026-07-28: its `_meta` names a
 * protocol version or client capabilities, or it calls `server/discover`/`subscriptions/listen`) on
 * a session that never ran `initialize` is checked on its own `_meta` (−32602, −32022, −32601 for
 * the methods the modern era removed). Otherwise the legacy rule: `initialize` once per session (a
 * second one is −32600); before it, only the methods in `open`, every other request −32005.
 */
function admitAfterInitialize(open: ReadonlySet<string>): NonNullable<Dialect['admit']> {
  return (request, session) => {
    const initialized = readLocal(session, PROTOCOL_VERSION) !== undefined;
    if (!initialized && isModernRequest(request)) {
      return admitModernRequest(request);
    }
    if (request.method === 'initialize') {
      return initialized ? { code: ErrorCode.InvalidRequest, message: 'Session already initialized' } : undefined;
    }
    if (!initialized && !open.has(request.method)) {
      return { code: ErrorCode.NotInitialized, message: 'Server not initialized', data: { method: request.method } };
    }
    return undefined;
  };
}

/**
 * The MCP dialect with no extra open methods (see {@link createMcpDialect}).
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { mcpDialect, mcpMethods } from 'session-supervisor/mcp';
 *
 * const supervisor = createSupervisor({ dialect: mcpDialect, ...mcpMethods({ name: 'demo', version: '1.0.0', tools: [] }) });
 * ```
 */
export const mcpDialect: Dialect = {
  name: 'mcp',
  cancelNotification: { method: 'notifications/cancelled', requestId: readCancelledId },
  responseOnCancel(reason) {
    switch (reason) {
      case 'request-timeout':
        return { code: ErrorCode.RequestTimeout, message: 'Request timed out', data: { reason } };
      case 'drain-timeout':
      case 'shutdown':
        return { code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason } };
      case 'client':
      case 'transport-closed':
      case 'session-failed':
        return undefined;
    }
  },
  admit: admitAfterInitialize(BEFORE_INITIALIZE),
  cancellable: (method) => method !== 'initialize',
  batches: false,
};
