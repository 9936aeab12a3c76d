/**
 * The HTTP ceiling: a plain `node:http` server (keep-alive) that reads each POST body, JSON.parses
 * it, validates it with the zod JSON-RPC request schema and answers with JSON: an MCP-shaped
 * result for `tools/call`, the params for anything else. No MCP headers checked, no session.
 * Prints `READY {"port":N}`.
 */
import { createServer } from 'node:http';
import { JsonRpcRequestSchema } from '../../src/jsonrpc/schema.js';
import { serveMemoryCommands } from '../lib/memory-probe.js';
import { echoResult } from '../lib/messages.js';
import { servePlainHttp } from '../lib/plain-http.js';

const PARSE_ERROR = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';
const INVALID = '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const answer = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      answer(400, PARSE_ERROR);
      return;
    }
    const parsed = JsonRpcRequestSchema.safeParse(value);
    if (!parsed.success) {
      answer(400, INVALID);
      return;
    }
    const { id, method, params } = parsed.data;
    answer(200, JSON.stringify({ jsonrpc: '2.0', id, result: echoResult(method, params) }));
  });
});
serveMemoryCommands(() => 0);
servePlainHttp(server);
