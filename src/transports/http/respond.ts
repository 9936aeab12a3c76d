import type { ServerResponse } from 'node:http';

/**
 * Answer an HTTP request with a status and a JSON-RPC error body that names no request (`id: null`),
 * as the spec allows for HTTP-level refusals. The connection is closed after it (`Connection: close`)
 * when `close` is set or the request's body has not fully arrived, so an unread body is never
 * drained or parsed as the next request. Writes nothing when the response already started or ended.
 *
 * @example
 * ```ts
 * refuse(response, 415, -32600, 'Unsupported Media Type: use application/json');
 * ```
 */
export function refuse(
  response: ServerResponse,
  status: number,
  code: number,
  message: string,
  options: { headers?: Record<string, string>; close?: boolean; id?: string | number | null; data?: unknown } = {},
): void {
  if (response.headersSent || response.writableEnded || response.destroyed) return;
  const error = options.data === undefined ? { code, message } : { code, message, data: options.data };
  const body = JSON.stringify({ jsonrpc: '2.0', id: options.id ?? null, error });
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...options.headers,
  };
  if (options.close === true || response.req?.complete === false) headers.Connection = 'close';
  response.writeHead(status, headers);
  response.end(body);
}
