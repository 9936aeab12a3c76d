/**
 * mcp-sdk-memory: the official SDK's `McpServer` with the echo tool over its `InMemoryTransport`,
 * driven in-process by a lean client that sends raw JSON-RPC messages through the linked transport
 * (no SDK client on the hot path): the SDK's in-process ceiling. Prints one `RESULT` line per shape.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { arg, closedLoop, parseShapes, type Call } from '../lib/closed-loop.js';

async function channel(): Promise<{ call: Call; close: () => Promise<void> }> {
  const server = new McpServer({ name: 'sdk-bench', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const pending = new Map<number, (message: JSONRPCMessage) => void>();
  client.onmessage = (message) => {
    const id = (message as { id?: number }).id;
    if (typeof id !== 'number') return;
    const resolve = pending.get(id);
    pending.delete(id);
    resolve?.(message);
  };
  await server.connect(serverSide);
  await client.start();
  let nextId = 0;
  const request = (method: string, params: Record<string, unknown>): Promise<JSONRPCMessage> => {
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      void client.send({ jsonrpc: '2.0', id, method, params });
    });
  };
  await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } });
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const call: Call = async () => {
    const answer = await request('tools/call', { name: 'echo', arguments: { text: 'hello' } });
    return 'result' in answer;
  };
  return { call, close: () => server.close() };
}

const warmup = Number(arg('warmup', '300'));
const measure = Number(arg('measure', '1000'));
for (const shape of parseShapes(arg('shapes', '1x1,1x32,100x32'))) {
  const channels = await Promise.all(Array.from({ length: shape.connections }, () => channel()));
  const result = await closedLoop('mcp-sdk-memory', channels.map((c) => c.call), shape.inFlight, warmup, measure);
  await Promise.all(channels.map((c) => c.close()));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
