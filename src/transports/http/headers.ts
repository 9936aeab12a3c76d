import type { IncomingMessage } from 'node:http';
import type { InboundSummary } from './frames.js';
import { memoizeByValue } from '../memo.js';

/**
 * The `_meta` key that carries a modern request's protocol version.
 *
 * @example
 * ```ts
 * params._meta?.[META_PROTOCOL_VERSION]; // '2026-07-28'
 * ```
 */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';

/**
 * The first modern (stateless) protocol version.
 *
 * @example
 * ```ts
 * version >= MODERN_PROTOCOL_VERSION; // a modern request
 * ```
 */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * One header's value, trimmed (RFC 9110 field parsing drops surrounding whitespace); repeated headers joined.
 *
 * @example
 * ```ts
 * header(request, 'mcp-session-id'); // the session id, or undefined
 * ```
 */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(', ') : value).trim();
}

function parseMediaTypes(value: string): string[] {
  return value.split(',').map((part) => part.split(';', 1)[0]!.trim().toLowerCase());
}

// Clients send the same few `Accept` / `Content-Type` values on every request: parse each once.
const mediaTypes = memoizeByValue((value): readonly string[] => Object.freeze(parseMediaTypes(value)));

/**
 * Whether an `Accept` header admits every one of `types` (`*\/*` and `type/*` count; no header
 * admits anything, as HTTP says).
 *
 * @example
 * ```ts
 * accepts('application/json, text/event-stream', ['application/json', 'text/event-stream']); // true
 * accepts('application/json', ['text/event-stream']); // false
 * ```
 */
export function accepts(accept: string | undefined, types: readonly string[]): boolean {
  if (accept === undefined || accept === '') return true;
  const listed = mediaTypes(accept);
  return types.every((type) => listed.includes(type) || listed.includes('*/*') || listed.includes(`${type.split('/')[0]!}/*`));
}

/**
 * {@link accepts} for one fixed list of types, each header value decided once: what a route asks of
 * every request (a POST must accept JSON and SSE, a GET SSE).
 *
 * @example
 * ```ts
 * const acceptsPost = acceptsAll(['application/json', 'text/event-stream']);
 * acceptsPost('application/json, text/event-stream'); // true
 * ```
 */
export function acceptsAll(types: readonly string[]): (accept: string | undefined) => boolean {
  const verdict = memoizeByValue((value) => accepts(value, types));
  return (accept) => accept === undefined || accept === '' || verdict(accept);
}

const jsonContentType = memoizeByValue((value) => mediaTypes(value)[0] === 'application/json');

/**
 * Whether a `Content-Type` header is JSON (`application/json`, any parameters).
 *
 * @example
 * ```ts
 * isJsonContentType('application/json; charset=utf-8'); // true
 * ```
 */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && (value === 'application/json' || jsonContentType(value));
}

/**
 * Decode a header value that may use the Base64 sentinel (`=?base64?…?=`, SEP-2243); `undefined` when
 * the sentinel's content is not valid Base64 or not UTF-8.
 *
 * @example
 * ```ts
 * decodeHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?='); // 'Hello, 世界'
 * decodeHeaderValue('get_weather'); // 'get_weather'
 * ```
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!value.startsWith('=?base64?') || !value.endsWith('?=') || value.length < 11) return value;
  const encoded = value.slice(9, -2);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}

/** The body field `Mcp-Name` mirrors, per method (SEP-2243; the tasks extension adds `taskId`). */
const NAME_FIELD: Readonly<Record<string, 'name' | 'uri' | 'taskId'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/**
 * The protocol version a modern request's `_meta` carries, if any.
 *
 * @example
 * ```ts
 * metaProtocolVersion({ _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }); // '2026-07-28'
 * ```
 */
export function metaProtocolVersion(params: Record<string, unknown> | undefined): unknown {
  const meta = params?._meta;
  return typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)[META_PROTOCOL_VERSION] : undefined;
}

/**
 * Check the request metadata headers of a modern POST against its body (2026-07-28, SEP-2243):
 * `Mcp-Method` must equal `method`, `Mcp-Name` the `params.name` / `params.uri` of `tools/call`,
 * `prompts/get` and `resources/read` (Base64 sentinel decoded), and `MCP-Protocol-Version` the
 * `_meta` protocol version. For a modern MCP request (a protocol version in the header or `_meta`)
 * the three are required; for a plain JSON-RPC request only the headers that are present are
 * checked. Returns the mismatch to answer with −32020, or `undefined`.
 *
 * @example
 * ```ts
 * const problem = checkRequestHeaders(request, summary);
 * if (problem !== undefined) refuse(response, 400, -32020, `Header mismatch: ${problem}`);
 * ```
 */
export function checkRequestHeaders(request: IncomingMessage, summary: InboundSummary): string | undefined {
  if (summary.batch || summary.method === undefined) return undefined;
  const isRequest = summary.requestIds.length > 0;
  const headerVersion = header(request, 'mcp-protocol-version');
  const bodyVersion = metaProtocolVersion(summary.params);
  const modern = isRequest && (headerVersion !== undefined || bodyVersion !== undefined);

  if (modern) {
    if (headerVersion === undefined) return 'the MCP-Protocol-Version header is missing';
    if (typeof bodyVersion === 'string' && bodyVersion !== headerVersion) {
      return `MCP-Protocol-Version header value '${headerVersion}' does not match body value '${bodyVersion}'`;
    }
  }
  const method = header(request, 'mcp-method');
  if (method === undefined) {
    if (modern) return 'the Mcp-Method header is missing';
  } else if (method !== summary.method) {
    return `Mcp-Method header value '${method}' does not match body value '${summary.method}'`;
  }
  const field = NAME_FIELD[summary.method];
  const bodyName = field === undefined ? undefined : summary.params?.[field];
  const rawName = header(request, 'mcp-name');
  if (rawName === undefined) {
    if (modern && typeof bodyName === 'string') return 'the Mcp-Name header is missing';
    return undefined;
  }
  const name = decodeHeaderValue(rawName);
  if (name === undefined) return 'the Mcp-Name header is not valid Base64';
  if (field !== undefined && name !== bodyName) {
    return `Mcp-Name header value '${rawName}' does not match body value '${String(bodyName)}'`;
  }
  return undefined;
}
