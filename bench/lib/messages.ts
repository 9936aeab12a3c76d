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
