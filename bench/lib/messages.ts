/** The request frames every load client sends, and the check of an echo answer. */

/** Which method the load sends: plain JSON-RPC `echo`, or MCP `tools/call` with the `echo` tool. */
export type LoadKind = 'jsonrpc' | 'mcp';

const TEXT = 'hello';

/** The request frame for id `id` (string concatenation: the client must cost the same everywhere). */
export function requestFrame(kind: LoadKind, id: number): string {
  return kind === 'mcp'
    ? `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"}}}`
    : `{"jsonrpc":"2.0","id":${id},"method":"echo","params":{"text":"${TEXT}"}}`;
}

/** MCP handshake frames (initialize, then the initialized notification). */
export const MCP_INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
});
export const MCP_INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** `true` when `message` is a successful echo of the request (any shape that carries the text back). */
export function isEcho(message: { result?: unknown }): boolean {
  const result = message.result;
  if (result === undefined || result === null) return false;
  return JSON.stringify(result).includes(TEXT);
}

/** The `_meta` a modern (2026-07-28) MCP request carries instead of an `initialize`. */
export const MODERN_META =
  '"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1.0.0"}';

/**
 * What an HTTP load sends: `modern` a 2026-07-28 `tools/call echo` (headers and `_meta`, no
 * session); `modern-sse` the same call to `progress_echo` with a progress token, so the answer
 * comes as SSE after one progress notification; `stateless` a 2025-06-18 `tools/call echo` for a
 * stateless server of the older era (no `_meta`).
 */
export type HttpLoadKind = 'modern' | 'modern-sse' | 'stateless';

/** The headers of every POST of `kind` (besides Content-Type and Accept). */
export function httpHeaders(kind: HttpLoadKind): Record<string, string> {
  if (kind === 'stateless') return { 'mcp-protocol-version': '2025-06-18' };
  return { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': kind === 'modern' ? 'echo' : 'progress_echo' };
}

/** The POST body for id `id`. */
export function httpBody(kind: HttpLoadKind, id: number): string {
  if (kind === 'stateless') return requestFrame('mcp', id);
  if (kind === 'modern') {
    return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"},"_meta":{${MODERN_META}}}}`;
  }
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"progress_echo","arguments":{"text":"${TEXT}"},"_meta":{"progressToken":${id},${MODERN_META}}}}`;
}

/** What a raw echo server answers: an MCP-shaped text result for `tools/call`, the params for anything else. */
export function echoResult(method: string, params: unknown): unknown {
  return method === 'tools/call' ? { content: [{ type: 'text', text: String((params as { arguments?: { text?: unknown } }).arguments?.text) }] } : params;
}
