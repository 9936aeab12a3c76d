/**
 * The official SDK v2 over Streamable HTTP: `createMcpHandler` (`@modelcontextprotocol/server`)
 * with an `echo` tool, on its Node adapter `toNodeHandler` (`@modelcontextprotocol/node`), in a
 * plain `node:http` server (keep-alive). It serves the modern (2026-07-28) per-request exchange the
 * load sends. Prints `READY {"port":N}`.
 */
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { servePlainHttp } from '../lib/plain-http.js';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'sdk-v2-bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo the text back', inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
});
const node = toNodeHandler(handler);
// node:http's types mark `method` optional; the adapter's structural type wants it set (it always is on a server).
const server = createServer((req, res) => void node(req as Parameters<typeof node>[0], res));
servePlainHttp(server);
