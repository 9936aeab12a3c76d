import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMcpServer, defineTool, type McpServer } from '../../src/mcp/index.js';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';
import { countTool, holdTool } from './peer-tools.js';

// The official v2 client (2.4) as the peer, over real Streamable HTTP on 127.0.0.1, in the modern
// era (2026-07-28): no initialize, per-request _meta, server/discover, MRTR, stream close = cancel.

const started: string[] = [];
const cancelled: Array<{ reason: string; aborted: boolean }> = [];
let waitForCancel: (() => void) | undefined;

let server: McpServer;
let listener: HttpListener;

beforeAll(async () => {
  server = createMcpServer({
    name: 'v2-peer-test',
    version: '1.0.0',
    tools: [
      defineTool({ name: 'echo', input: z.object({ text: z.string() }), run: ({ text }) => text }),
      countTool,
      holdTool({
        onStart: (ctx) => started.push(String(ctx.requestId)),
        onCancel: (reason, ctx) => {
          cancelled.push({ reason: reason.reason, aborted: ctx.signal.aborted });
          waitForCancel?.();
        },
      }),
      defineTool({
        name: 'greet',
        input: z.object({}),
        run: async (_args, ctx) => {
          const answer = (await ctx.elicit('name', {
            mode: 'form',
            message: 'Your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          })) as { action: string; content?: { name?: string } };
          return `hello ${answer.content?.name ?? '?'} (round ${ctx.round})`;
        },
      }),
    ],
  });
  listener = await listenHttp(server, { port: 0 });
});

afterAll(async () => {
  await listener.close();
  await server.drain();
});

async function modernClient(capabilities: Record<string, unknown> = {}): Promise<Client> {
  const client = new Client({ name: 'v2-test', version: '0.0.1' }, { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(listener.url)));
  return client;
}

describe('the official v2 client over Streamable HTTP, modern era', () => {
  it('connects by server/discover (no initialize) and lists and calls tools', async () => {
    const client = await modernClient();
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['echo', 'count', 'hold', 'greet']);
      const result = await client.callTool({ name: 'echo', arguments: { text: 'over http' } });
      expect(result.content).toEqual([{ type: 'text', text: 'over http' }]);
    } finally {
      await client.close();
    }
  });

  it('receives progress on the call stream (SSE) and then the result', async () => {
    const client = await modernClient();
    try {
      const progress: Array<{ progress: number; total?: number | undefined }> = [];
      const result = await client.callTool({ name: 'count', arguments: { steps: 3 } }, { onprogress: (p) => progress.push({ progress: p.progress, total: p.total }) });
      expect(result.content).toEqual([{ type: 'text', text: 'counted 3' }]);
      expect(progress).toEqual([
        { progress: 1, total: 3 },
        { progress: 2, total: 3 },
        { progress: 3, total: 3 },
      ]);
    } finally {
      await client.close();
    }
  });

  it('answers an elicitation through input_required: the client retries with the answer', async () => {
    const client = await modernClient({ elicitation: {} });
    try {
      const asked: string[] = [];
      client.setRequestHandler('elicitation/create', async (request) => {
        asked.push(String((request.params as { message?: unknown }).message));
        return { action: 'accept', content: { name: 'Ada' } };
      });
      const result = await client.callTool({ name: 'greet', arguments: {} });
      expect(asked).toEqual(['Your name?']);
      expect(result.content).toEqual([{ type: 'text', text: 'hello Ada (round 1)' }]);
    } finally {
      await client.close();
    }
  });

  it('cancels the handler exactly once with transport-closed when the client aborts the call', async () => {
    const client = await modernClient();
    try {
      started.length = 0;
      cancelled.length = 0;
      const before = server.stats().cancelled['transport-closed'];
      const heard = new Promise<void>((resolve) => (waitForCancel = resolve));
      const controller = new AbortController();
      const call = client.callTool({ name: 'hold', arguments: {} }, { signal: controller.signal });
      const outcome = call.then(
        () => 'resolved',
        (error: unknown) => (error instanceof Error ? error.name : 'rejected'),
      );
      await expect.poll(() => started.length).toBe(1);
      controller.abort('user gave up');
      await heard;
      expect(await outcome).not.toBe('resolved');
      // Once the exchange's session has let go of everything, the cancel is still the only one.
      await expect.poll(() => server.stats().inFlight + server.stats().cancelling).toBe(0);
      expect(cancelled).toEqual([{ reason: 'transport-closed', aborted: true }]);
      expect(server.stats().cancelled['transport-closed'] - before).toBe(1);
    } finally {
      await client.close();
    }
  });
});
