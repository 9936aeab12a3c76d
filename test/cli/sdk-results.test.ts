import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { createMcpServer } from '../../src/mcp/index.js';
import { listenWebSocket, type WebSocketListener } from '../../src/transports/ws.js';
import type { Supervisor } from '../../src/index.js';

// Node 20 has no global WebSocket: the SDK's WebSocketClientTransport uses ws's.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

// Why documentation examples of plain methods on an MCP server return objects: an MCP result is
// an object, and the official SDK client refuses any other JSON-RPC result.
let server: Supervisor | undefined;
let listener: WebSocketListener | undefined;
const clients: Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  await server?.close();
  await listener?.close();
});

async function connect(health: () => unknown): Promise<{ client: Client; errors: Error[]; firstError: Promise<Error> }> {
  server = createMcpServer({ name: 'example', version: '1.0.0', tools: [], methods: { health }, openMethods: ['health'] });
  listener = await listenWebSocket(server, { host: '127.0.0.1', port: 0 });
  const client = new Client({ name: 'sdk', version: '1.0.0' });
  const errors: Error[] = [];
  let reportError!: (error: Error) => void;
  const firstError = new Promise<Error>((resolve) => (reportError = resolve));
  client.onerror = (error) => {
    errors.push(error);
    reportError(error);
  };
  clients.push(client);
  await client.connect(new WebSocketClientTransport(new URL(listener.url)));
  return { client, errors, firstError };
}

describe('plain methods on an MCP server, called by the official SDK client', () => {
  it('accepts an object result: health → { status: "ok" }', async () => {
    const { client, errors } = await connect(() => ({ status: 'ok' }));
    expect(await client.request({ method: 'health', params: {} }, z.object({ status: z.string() }))).toEqual({ status: 'ok' });
    expect(errors).toEqual([]);
  });

  it("refuses a bare string result: health → 'ok' never reaches the caller", async () => {
    const { client, firstError } = await connect(() => 'ok');
    const answered = client.request({ method: 'health', params: {} }, z.unknown()).then(
      () => 'resolved',
      () => 'rejected',
    );
    // The SDK cannot parse the answer: it reports it and the request stays unanswered until the close.
    expect(String(await firstError)).toMatch(/result|invalid|parse|union/i);
    await client.close();
    expect(await answered).toBe('rejected');
  });
});
