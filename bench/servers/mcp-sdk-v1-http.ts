/**
 * The official SDK v1.32 over Streamable HTTP, stateless, as its own example does it: for every
 * POST a new `McpServer` with an `echo` tool and a `StreamableHTTPServerTransport` without session
 * ids (no `sessionIdGenerator`), JSON answers (`enableJsonResponse`), closed when the
 * response closes. A plain `node:http` server (keep-alive). Prints `READY {"port":N}`.
 */
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { servePlainHttp } from '../lib/plain-http.js';

const server = createServer((req, res) => {
  const mcp = new McpServer({ name: 'sdk-v1-bench', version: '1.0.0' });
  mcp.registerTool('echo', { description: 'Echo the text back', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
  res.once('close', () => {
    void transport.close();
    void mcp.close();
  });
  void mcp.connect(transport).then(() => transport.handleRequest(req, res));
});
servePlainHttp(server);
