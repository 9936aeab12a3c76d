/**
 * The stdio ceiling: a plain child process that reads JSON lines, validates each with the zod
 * JSON-RPC request schema and echoes. Answers MCP `initialize` and `tools/call` with MCP-shaped
 * results so the same JSON-lines load client drives it.
 */
import { createInterface } from 'node:readline';
import { JsonRpcRequestSchema } from '../../src/jsonrpc/schema.js';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    process.stdout.write('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}\n');
    return;
  }
  if (typeof value === 'object' && value !== null && !('id' in value)) return; // a notification
  const parsed = JsonRpcRequestSchema.safeParse(value);
  if (!parsed.success) {
    process.stdout.write('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}\n');
    return;
  }
  const { id, method, params } = parsed.data;
  let result: unknown;
  if (method === 'initialize') {
    result = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1.0.0' } };
  } else if (method === 'tools/call') {
    result = { content: [{ type: 'text', text: String((params as { arguments?: { text?: unknown } }).arguments?.text) }] };
  } else result = params;
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
});
lines.on('close', () => process.exit(0));
