import type { z } from 'zod';
import type { RequestId } from '../../machines/handler.js';
import { ErrorCode, type JsonRpcErrorObject } from './errors.js';
import {
  JsonRpcErrorResponseSchema,
  JsonRpcNotificationSchema,
  JsonRpcRequestSchema,
  JsonRpcResultResponseSchema,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from './schema.js';

/**
 * What one inbound frame decodes to. The codec never throws: anything unreadable becomes
 * `{ kind: 'invalid', error }`, the error to answer with `id: null`.
 *
 * @example
 * ```ts
 * const d = decodeFrame('{"jsonrpc":"2.0","id":1,"method":"ping"}');
 * if (d.kind === 'request') d.message.method; // 'ping'
 * ```
 */
export type Decoded =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'batch'; items: unknown[] }
  | { kind: 'invalid'; error: JsonRpcErrorObject };

/**
 * Options of the codec.
 *
 * @example
 * ```ts
 * decodeFrame('[]', { batches: true });
 * ```
 */
export interface DecodeOptions {
  /** Accept arrays as batches (otherwise a batch is −32600). */
  batches?: boolean;
}

const PARSE_ERROR: JsonRpcErrorObject = { code: ErrorCode.ParseError, message: 'Parse error' };

/**
 * Decode one text frame (one JSON value). Invalid JSON → −32700; valid JSON that is not a JSON-RPC
 * message → −32600; a batch → −32600 unless `batches` is on.
 *
 * @example
 * ```ts
 * decodeFrame('{oops'); // { kind: 'invalid', error: { code: -32700, message: 'Parse error' } }
 * ```
 */
export function decodeFrame(frame: string, options?: DecodeOptions): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return { kind: 'invalid', error: PARSE_ERROR };
  }
  return decodeValue(value, options);
}

/**
 * Classify one parsed JSON value as a JSON-RPC message.
 *
 * @example
 * ```ts
 * decodeValue({ jsonrpc: '2.0', method: 'x' }).kind; // 'notification'
 * ```
 */
export function decodeValue(value: unknown, options?: DecodeOptions): Decoded {
  if (Array.isArray(value)) {
    if (options?.batches === true && value.length > 0) return { kind: 'batch', items: value };
    return invalid(value.length === 0 ? 'Empty batch' : 'Batches are not supported');
  }
  if (typeof value !== 'object' || value === null) return invalid('A message must be a JSON object');
  const record = value as Record<string, unknown>;
  if ('method' in record) {
    if ('id' in record) {
      const fast = plainRequest(record);
      if (fast !== undefined) return { kind: 'request', message: fast };
      const parsed = JsonRpcRequestSchema.safeParse(value);
      return parsed.success ? { kind: 'request', message: parsed.data } : invalid(summarizeIssues(parsed.error));
    }
    const parsed = JsonRpcNotificationSchema.safeParse(value);
    return parsed.success ? { kind: 'notification', message: parsed.data } : invalid(summarizeIssues(parsed.error));
  }
  if ('result' in record) {
    const parsed = JsonRpcResultResponseSchema.safeParse(value);
    return parsed.success ? { kind: 'response', message: parsed.data } : invalid(summarizeIssues(parsed.error));
  }
  if ('error' in record) {
    const parsed = JsonRpcErrorResponseSchema.safeParse(value);
    return parsed.success ? { kind: 'response', message: parsed.data } : invalid(summarizeIssues(parsed.error));
  }
  return invalid('Not a JSON-RPC 2.0 message');
}

/**
 * The common request, checked by hand: `jsonrpc` "2.0", a string or finite-number `id`, a string
 * `method`, and `params` absent, an array or a plain object. The result is what
 * `JsonRpcRequestSchema` would give (known keys only, in schema order). Anything else returns
 * `undefined` and goes through the schema, which also words the error.
 */
function plainRequest(record: Record<string, unknown>): JsonRpcRequest | undefined {
  const { jsonrpc, id, method, params } = record;
  if (jsonrpc !== '2.0' || typeof method !== 'string') return undefined;
  if (typeof id !== 'string' && (typeof id !== 'number' || !Number.isFinite(id))) return undefined;
  if (params === undefined) {
    return 'params' in record ? undefined : { jsonrpc: '2.0', id, method };
  }
  if (typeof params !== 'object' || params === null) return undefined;
  if (Array.isArray(params)) return { jsonrpc: '2.0', id, method, params: [...(params as unknown[])] };
  if (Object.getPrototypeOf(params) !== Object.prototype || Object.hasOwn(params, '__proto__')) return undefined;
  return { jsonrpc: '2.0', id, method, params: { ...(params as Record<string, unknown>) } };
}

function invalid(detail: string): Decoded {
  return { kind: 'invalid', error: { code: ErrorCode.InvalidRequest, message: 'Invalid Request', data: detail } };
}

/**
 * A short, single-line summary of zod issues (at most three), for the `data` of −32600/−32602.
 *
 * @example
 * ```ts
 * summarizeIssues(z.object({ a: z.string() }).safeParse({}).error!); // 'a: Invalid input: expected string, received undefined'
 * ```
 */
export function summarizeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  });
  if (error.issues.length > 3) parts.push(`and ${error.issues.length - 3} more`);
  return parts.join('; ');
}

/**
 * Encode a success response. `undefined` results are sent as `null`.
 *
 * @example
 * ```ts
 * encodeResult(1, { ok: true }); // '{"jsonrpc":"2.0","id":1,"result":{"ok":true}}'
 * ```
 */
export function encodeResult(id: RequestId, result: unknown): string {
  const body = result === undefined ? 'null' : JSON.stringify(result);
  const wireId = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : JSON.stringify(id);
  return `{"jsonrpc":"2.0","id":${wireId},"result":${body ?? 'null'}}`;
}

/**
 * Encode an error response.
 *
 * @example
 * ```ts
 * encodeError(null, { code: -32700, message: 'Parse error' });
 * ```
 */
export function encodeError(id: RequestId | null, error: JsonRpcErrorObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

/**
 * Encode a notification.
 *
 * @example
 * ```ts
 * encodeNotification('notifications/progress', { progress: 1 });
 * ```
 */
export function encodeNotification(method: string, params?: unknown): string {
  return JSON.stringify(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params });
}

/**
 * Encode a request.
 *
 * @example
 * ```ts
 * encodeRequest(1, 'ping');
 * ```
 */
export function encodeRequest(id: RequestId, method: string, params?: unknown): string {
  return JSON.stringify(
    params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params },
  );
}
