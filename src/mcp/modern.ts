import { ErrorCode, type JsonRpcErrorObject } from '../jsonrpc/errors.js';

/**
 * The modern MCP protocol version (stateless: no `initialize`, the version and the client's
 * capabilities travel in every request's `_meta`).
 *
 * @example
 * ```ts
 * import { MODERN_MCP_PROTOCOL_VERSION } from 'session-supervisor/mcp';
 * MODERN_MCP_PROTOCOL_VERSION; // '2026-07-28'
 * ```
 */
export const MODERN_MCP_PROTOCOL_VERSION = '2026-07-28';

/**
 * The protocol versions served per request (modern era), newest first.
 *
 * @example
 * ```ts
 * MODERN_MCP_PROTOCOL_VERSIONS.includes('2026-07-28'); // true
 * ```
 */
export const MODERN_MCP_PROTOCOL_VERSIONS: readonly string[] = [MODERN_MCP_PROTOCOL_VERSION];

/**
 * The reserved `_meta` keys of the modern era.
 *
 * @example
 * ```ts
 * params._meta[MetaKey.protocolVersion]; // '2026-07-28'
 * ```
 */
export const MetaKey = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/**
 * The error codes the 2026-07-28 revision reserves (−32020…−32099).
 *
 * @example
 * ```ts
 * McpErrorCode.UnsupportedProtocolVersion; // -32022
 * ```
 */
export const McpErrorCode = {
  /** An HTTP header (`Mcp-Method`, `Mcp-Name`, `MCP-Protocol-Version`) disagrees with the body. */
  HeaderMismatch: -32020,
  /** The request needs a client capability the request's `_meta` does not declare. */
  MissingRequiredClientCapability: -32021,
  /** The requested protocol version is not served. */
  UnsupportedProtocolVersion: -32022,
} as const;

/** Methods that exist only in the modern era: a request for one is read as modern even without `_meta`. */
const MODERN_ONLY = new Set(['server/discover', 'subscriptions/listen']);

/**
 * Methods the modern era removed: a modern request for one gets −32601 (HTTP 404), as the
 * 2026-07-28 revision says, even when the server implements it for legacy sessions.
 */
const REMOVED_IN_MODERN = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'resources/subscribe',
  'resources/unsubscribe',
  'notifications/initialized',
]);

/**
 * What a modern request says about its client, read from `params._meta`.
 *
 * @example
 * ```ts
 * const meta: ModernRequestMeta = { protocolVersion: '2026-07-28', clientCapabilities: {}, clientInfo: undefined, logLevel: undefined };
 * ```
 */
export interface ModernRequestMeta {
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo: unknown;
  logLevel: string | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `params._meta` as an object, or `undefined`. */
export function metaOf(params: unknown): Record<string, unknown> | undefined {
  if (!isObject(params)) return undefined;
  const meta = params['_meta'];
  return isObject(meta) ? meta : undefined;
}

/**
 * Whether a request speaks the modern era: its `_meta` names a protocol version or client
 * capabilities, or it calls a method only the modern era has (`server/discover`,
 * `subscriptions/listen`).
 *
 * @example
 * ```ts
 * isModernRequest({ method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }); // true
 * isModernRequest({ method: 'tools/list' }); // false
 * ```
 */
export function isModernRequest(request: { method: string; params?: unknown }): boolean {
  if (MODERN_ONLY.has(request.method)) return true;
  const meta = metaOf(request.params);
  return meta !== undefined && (MetaKey.protocolVersion in meta || MetaKey.clientCapabilities in meta);
}

/**
 * Read and check a modern request's `_meta`: a missing `_meta`, protocol version or client
 * capabilities is −32602; a version the server does not serve is −32022 with
 * `data: { supported, requested }`; a method the modern era removed is −32601.
 *
 * @example
 * ```ts
 * const checked = checkModernRequest({ method: 'tools/list', params: { _meta: { … } } });
 * if ('error' in checked) answer(checked.error); else use(checked.meta);
 * ```
 */
export function checkModernRequest(
  request: { method: string; params?: unknown },
  supported: readonly string[] = MODERN_MCP_PROTOCOL_VERSIONS,
): { meta: ModernRequestMeta } | { error: JsonRpcErrorObject } {
  const meta = metaOf(request.params);
  if (meta === undefined) {
    return { error: { code: ErrorCode.InvalidParams, message: 'Invalid params: _meta is required', data: { missing: '_meta' } } };
  }
  const protocolVersion = meta[MetaKey.protocolVersion];
  if (typeof protocolVersion !== 'string') {
    return { error: { code: ErrorCode.InvalidParams, message: `Invalid params: _meta.${MetaKey.protocolVersion} is required`, data: { missing: MetaKey.protocolVersion } } };
  }
  const clientCapabilities = meta[MetaKey.clientCapabilities];
  if (!isObject(clientCapabilities)) {
    return { error: { code: ErrorCode.InvalidParams, message: `Invalid params: _meta.${MetaKey.clientCapabilities} is required`, data: { missing: MetaKey.clientCapabilities } } };
  }
  if (!supported.includes(protocolVersion)) {
    return {
      error: {
        code: McpErrorCode.UnsupportedProtocolVersion,
        message: 'Unsupported protocol version',
        data: { supported: [...supported], requested: protocolVersion },
      },
    };
  }
  if (REMOVED_IN_MODERN.has(request.method)) {
    return { error: { code: ErrorCode.MethodNotFound, message: 'Method not found', data: { method: request.method } } };
  }
  const logLevel = meta[MetaKey.logLevel];
  return {
    meta: {
      protocolVersion,
      clientCapabilities,
      clientInfo: meta[MetaKey.clientInfo],
      logLevel: typeof logLevel === 'string' ? logLevel : undefined,
    },
  };
}

/**
 * The modern `_meta` of a request that was admitted as modern, or `undefined` for a legacy one.
 * Handlers use it to tell the eras apart.
 *
 * @example
 * ```ts
 * const modern = modernMetaOf(ctx.message);
 * if (modern?.clientCapabilities.sampling === undefined) { … }
 * ```
 */
export function modernMetaOf(request: { method: string; params?: unknown }): ModernRequestMeta | undefined {
  if (!isModernRequest(request)) return undefined;
  const holder = request as { [CHECKED_META]?: ModernRequestMeta };
  const cached = holder[CHECKED_META];
  if (cached !== undefined) return cached;
  const checked = checkModernRequest(request);
  if (!('meta' in checked)) return undefined;
  keepMeta(request, checked.meta);
  return checked.meta;
}

/**
 * {@link checkModernRequest} at admission: the error to refuse the request with, or `undefined`
 * — and then the checked `_meta` is kept for {@link modernMetaOf}, so it is read only once.
 *
 * @example
 * ```ts
 * const refusal = admitModernRequest(request); // undefined: admitted
 * ```
 */
export function admitModernRequest(request: { method: string; params?: unknown }): JsonRpcErrorObject | undefined {
  const checked = checkModernRequest(request);
  if ('error' in checked) return checked.error;
  keepMeta(request, checked.meta);
  return undefined;
}

function keepMeta(request: object, meta: ModernRequestMeta): void {
  if (Object.isExtensible(request)) (request as { [CHECKED_META]?: ModernRequestMeta })[CHECKED_META] = meta;
}

/**
 * Where a modern request message keeps its checked `_meta`, read once however many parts ask: a
 * symbol-keyed property of the message itself (invisible to JSON and `Object.keys`), not a
 * `WeakMap`. A weak collection with an entry per request makes every young-generation GC walk
 * and keep those entries: measured on the HTTP bench, several MB promoted per scavenge.
 */
const CHECKED_META = Symbol('session-supervisor.modernMeta');

/**
 * The −32021 error for a capability the client did not declare: `data.requiredCapabilities` is a
 * `ClientCapabilities` object keyed by what is missing (e.g. `{ sampling: {} }`).
 *
 * @example
 * ```ts
 * throw new JsonRpcError(...Object.values(missingCapabilityError(['sampling'])));
 * ```
 */
export function missingCapabilityError(capabilities: readonly string[]): JsonRpcErrorObject {
  const requiredCapabilities: Record<string, object> = {};
  for (const name of capabilities) requiredCapabilities[name] = {};
  return {
    code: McpErrorCode.MissingRequiredClientCapability,
    message: `Missing required client capability: ${capabilities.join(', ')}`,
    data: { requiredCapabilities },
  };
}
