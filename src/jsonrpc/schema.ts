import { z } from 'zod';

/**
 * A request id: a string or a finite number. (`null` is refused for requests: it cannot be told
 * apart from the id of an error about an unreadable request.)
 *
 * @example
 * ```ts
 * RequestIdSchema.parse(0); // 0
 * ```
 */
export const RequestIdSchema = z.union([z.string(), z.number()]);

const ParamsSchema = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional();

/**
 * A JSON-RPC 2.0 request (has an `id`).
 *
 * @example
 * ```ts
 * JsonRpcRequestSchema.parse({ jsonrpc: '2.0', id: 1, method: 'echo', params: { text: 'hi' } });
 * ```
 */
export const JsonRpcRequestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: RequestIdSchema,
  method: z.string(),
  params: ParamsSchema,
});

/**
 * A JSON-RPC 2.0 notification (no `id`, never answered).
 *
 * @example
 * ```ts
 * JsonRpcNotificationSchema.parse({ jsonrpc: '2.0', method: 'notifications/initialized' });
 * ```
 */
export const JsonRpcNotificationSchema = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string(),
  params: ParamsSchema,
});

/**
 * The `error` member of an error response.
 *
 * @example
 * ```ts
 * JsonRpcErrorObjectSchema.parse({ code: -32601, message: 'Method not found' });
 * ```
 */
export const JsonRpcErrorObjectSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});

/**
 * A successful response.
 *
 * @example
 * ```ts
 * JsonRpcResultResponseSchema.parse({ jsonrpc: '2.0', id: 1, result: {} });
 * ```
 */
export const JsonRpcResultResponseSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: RequestIdSchema,
  result: z.unknown(),
});

/**
 * An error response (`id` is `null` when the request could not be read).
 *
 * @example
 * ```ts
 * JsonRpcErrorResponseSchema.parse({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
 * ```
 */
export const JsonRpcErrorResponseSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.union([RequestIdSchema, z.null()]),
  error: JsonRpcErrorObjectSchema,
});

/** @example `const r: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'ping' };` */
export type JsonRpcRequest = z.infer<typeof JsonRpcRequestSchema>;
/** @example `const n: JsonRpcNotification = { jsonrpc: '2.0', method: 'x' };` */
export type JsonRpcNotification = z.infer<typeof JsonRpcNotificationSchema>;
/** @example `const r: JsonRpcResultResponse = { jsonrpc: '2.0', id: 1, result: null };` */
export type JsonRpcResultResponse = z.infer<typeof JsonRpcResultResponseSchema>;
/** @example `const r: JsonRpcErrorResponse = { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } };` */
export type JsonRpcErrorResponse = z.infer<typeof JsonRpcErrorResponseSchema>;
/** @example `const m: JsonRpcResponse = { jsonrpc: '2.0', id: 1, result: 1 };` */
export type JsonRpcResponse = JsonRpcResultResponse | JsonRpcErrorResponse;
/** @example `const m: JsonRpcMessage = { jsonrpc: '2.0', method: 'x' };` */
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;
