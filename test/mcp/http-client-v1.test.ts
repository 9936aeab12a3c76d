import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, PromptListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpServer, defineTool, type McpServer } from '../../src/mcp/index.js';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';
import { countTool } from './peer-tools.js';

// The official v1.32 client (StreamableHTTPClientTransport) as the peer, over real Streamable HTTP
// on 127.0.0.1, in the legacy era: initialize, Mcp-Session-Id, GET stream, resumption.

const cancelled: string[] = [];
const started: string[] = [];
let release: ((value: string) => void) | undefined;
let heardCancel: (() => void) | undefined;

let server: McpServer;
let listener: HttpListener;

beforeAll(async () => {
  server = createMcpServer({
    name: 'v1-peer-test',
    version: '1.0.0',
    capabilities: { tools: { listChanged: true }, prompts: { listChanged: true } },
    tools: [
      defineTool({ name: 'echo', input: z.object({ text: z.string() }), run: ({ text }) => text }),
      countTool,
      defineTool({
        name: 'gate',
        input: z.object({}),
        run: (_args, ctx) =>
          new Promise((resolve, reject) => {
            started.push(String(ctx.requestId));
            release = resolve;
            // A progress event opens the SSE stream now (with its priming event id), so the
            // client has an event id to resume from if the stream drops.
            ctx.progress(0, 1);
            ctx.onCancel((reason) => {
              cancelled.push(reason.reason);
              heardCancel?.();
              reject(reason);
            });
          }),
      }),
    ],
  });
  listener = await listenHttp(server, { port: 0 });
});

afterAll(async () => {
  await listener.close();
  await server.drain();
});

async function legacyClient(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'v1-test', version: '0.0.1' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(listener.url), {
    reconnectionOptions: { initialReconnectionDelay: 20, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1, maxRetries: 20 },
  });
  await client.connect(transport);
  return { client, transport };
}

describe('the official v1.32 client over Streamable HTTP, legacy era', () => {
  it('initializes a session and lists and calls tools', async () => {
    const { client, transport } = await legacyClient();
    try {
      expect(transport.sessionId).toMatch(/^[\x21-\x7e]{16,}$/);
      expect(client.getServerVersion()).toEqual({ name: 'v1-peer-test', version: '1.0.0' });
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['echo', 'count', 'gate']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'legacy' } });
      expect(result.content).toEqual([{ type: 'text', text: 'legacy' }]);
    } finally {
      await client.close();
    }
  });

  it('receives progress and the result', async () => {
    const { client } = await legacyClient();
    try {
      const progress: number[] = [];
      const result = await client.callTool({ name: 'count', arguments: { steps: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      expect(result.content).toEqual([{ type: 'text', text: 'counted 3' }]);
      expect(progress).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  it('cancels the handler with reason client when the client aborts (notifications/cancelled)', async () => {
    const { client } = await legacyClient();
    try {
      cancelled.length = 0;
      started.length = 0;
      const heard = new Promise<void>((resolve) => (heardCancel = resolve));
      const controller = new AbortController();
      const call = client.callTool({ name: 'gate', arguments: {} }, undefined, { signal: controller.signal });
      const outcome = call.then(() => 'resolved', () => 'rejected');
      await expect.poll(() => started.length).toBe(1);
      controller.abort('stop');
      await heard;
      expect(await outcome).toBe('rejected');
      await expect.poll(() => server.stats().inFlight + server.stats().cancelling).toBe(0);
      expect(cancelled).toEqual(['client']);
    } finally {
      await client.close();
    }
  });

  it('keeps a call running when its stream drops, and delivers the answer on resume', async () => {
    const { client } = await legacyClient();
    try {
      cancelled.length = 0;
      started.length = 0;
      const progress: number[] = [];
      const call = client.callTool({ name: 'gate', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.progress) });
      await expect.poll(() => progress).toEqual([0]);
      listener.server.closeAllConnections();
      release!('answered after the drop');
      expect((await call).content).toEqual([{ type: 'text', text: 'answered after the drop' }]);
      expect(cancelled).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('resumes a dropped GET stream with Last-Event-ID and gets what was sent meanwhile', async () => {
    const { client } = await legacyClient();
    try {
      const seen: string[] = [];
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void seen.push('tools'));
      client.setNotificationHandler(PromptListChangedNotificationSchema, () => void seen.push('prompts'));
      // The client opens its GET stream on its own after initialize; it is open once a
      // notification sent to the session arrives (until then there is no stream to send on).
      await expect
        .poll(() => {
          if (seen.length === 0) server.mcp.changed('prompts');
          return seen.length;
        }, { interval: 20 })
        .toBeGreaterThan(0);
      const before = seen.length;
      listener.server.closeAllConnections();
      server.mcp.changed('tools');
      await expect.poll(() => seen.slice(before), { timeout: 5_000 }).toEqual(['tools']);
    } finally {
      await client.close();
    }
  });
});
