import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { createMcpServer, defineTool, MetaKey, MODERN_MCP_PROTOCOL_VERSION, type McpServer } from '../../src/mcp/index.js';
import { listenWebSocket, type WebSocketListener } from '../../src/transports/ws.js';
import { holdTool } from './peer-tools.js';

// The modern era (2026-07-28) needs no initialize on stdio and WebSocket either: each request
// carries its own _meta.

const CLI = join(import.meta.dirname, '../../dist/src/cli.js');

describe('modern era over stdio: the official v2 client against `serve --stdio`', () => {
  it('connects pinned to 2026-07-28 (server/discover, no initialize) and calls a tool', async () => {
    const client = new Client({ name: 'v2-stdio', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--stdio', '--log-level', 'warn'] }));
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['echo', 'sleep', 'stubborn_sleep', 'fail']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'over stdio' } });
      expect(result.content).toEqual([{ type: 'text', text: 'over stdio' }]);
    } finally {
      await client.close();
    }
  });
});

describe('modern era over WebSocket', () => {
  const reasons: string[] = [];
  let server: McpServer;
  let listener: WebSocketListener;

  beforeAll(async () => {
    server = createMcpServer({
      name: 'ws-modern',
      version: '1.0.0',
      tools: [
        defineTool({ name: 'echo', input: z.object({ text: z.string() }), run: ({ text }) => text }),
        holdTool({ onCancel: (reason) => reasons.push(reason.reason) }),
      ],
    });
    listener = await listenWebSocket(server, { port: 0 });
  });

  afterAll(async () => {
    await listener.close();
    await server.drain();
  });

  const meta = { [MetaKey.protocolVersion]: MODERN_MCP_PROTOCOL_VERSION, [MetaKey.clientCapabilities]: {} };

  async function open(): Promise<{ socket: WebSocket; next: (id: number) => Promise<any> }> {
    const socket = new WebSocket(listener.url);
    const inbox: any[] = [];
    const waiters: Array<() => void> = [];
    socket.on('message', (data) => {
      inbox.push(JSON.parse(String(data)));
      for (const wake of waiters.splice(0)) wake();
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const next = async (id: number) => {
      for (;;) {
        const found = inbox.find((message) => message.id === id);
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    return { socket, next };
  }

  it('serves server/discover and tools/call with no initialize', async () => {
    const { socket, next } = await open();
    try {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }));
      expect((await next(1)).result).toMatchObject({ resultType: 'complete', supportedVersions: [MODERN_MCP_PROTOCOL_VERSION] });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'ws' }, _meta: meta } }));
      expect((await next(2)).result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'ws' }] });
    } finally {
      socket.close();
    }
  });

  it('cancels a modern call on notifications/cancelled (reason client) and answers nothing for it', async () => {
    const { socket, next } = await open();
    try {
      reasons.length = 0;
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'hold', arguments: {}, _meta: meta } }));
      await expect.poll(() => server.stats().inFlight).toBe(1);
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } }));
      await expect.poll(() => reasons).toEqual(['client']);
      // A later request on the same socket is answered, and nothing came for id 3 before it.
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'after' }, _meta: meta } }));
      expect((await next(4)).result.content).toEqual([{ type: 'text', text: 'after' }]);
      await expect(Promise.race([next(3), Promise.resolve('nothing')])).resolves.toBe('nothing');
    } finally {
      socket.close();
    }
  });
});
