import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryTransportPair, createSupervisor, ErrorCode } from '../../src/index.js';
import { createMcpServer, defineTool, LATEST_MCP_PROTOCOL_VERSION, MCP_PROTOCOL_VERSIONS, mcpDialect, mcpSessionInfo } from '../../src/mcp/index.js';
import { connectInitialized, createTestClock, flush } from './memory-session.js';

const seen: { aborted: unknown[] } = { aborted: [] };

const tools = [
  defineTool({ name: 'echo', description: 'Echo text', input: z.object({ text: z.string() }), run: ({ text }) => text }),
  defineTool({
    name: 'wait',
    input: z.object({ ms: z.number().int().min(0) }),
    run: ({ ms }, ctx) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(`waited ${ms}`), ms);
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            seen.aborted.push((ctx.signal.reason as { reason: unknown }).reason);
            reject(ctx.signal.reason);
          },
          { once: true },
        );
      }),
  }),
  defineTool({ name: 'fail', input: z.object({ message: z.string() }), run: ({ message }) => { throw new Error(message); } }),
  defineTool({ name: 'json', input: z.object({}), run: () => ({ a: 1 }) }),
  defineTool({
    name: 'waitOnCancel',
    input: z.object({}),
    run: (_args, ctx) =>
      new Promise((_, reject) =>
        ctx.onCancel((reason) => {
          seen.aborted.push(`onCancel:${reason.reason}`);
          reject(reason);
        }),
      ),
  }),
];

const makeServer = (extra: Parameters<typeof createMcpServer>[0] extends infer O ? Partial<O> : never = {}) =>
  createMcpServer({ name: 'test-server', version: '1.2.3', tools, ...extra });

describe('MCP initialize', () => {
  it('answers with the client version when it is one of the supported versions', async () => {
    const server = makeServer();
    const { transport, peer } = createMemoryTransportPair();
    const session = server.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
    await flush();
    expect(peer.received).toEqual([
      {
        jsonrpc: '2.0',
        id: 1,
        result: { protocolVersion: '2025-03-26', capabilities: { tools: { listChanged: false } }, serverInfo: { name: 'test-server', version: '1.2.3' } },
      },
    ]);
    expect(mcpSessionInfo(session)).toEqual({ protocolVersion: '2025-03-26', clientInfo: { name: 'c', version: '1' }, clientInitialized: false });
    peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(mcpSessionInfo(session).clientInitialized).toBe(true);
  });

  it('answers an unknown version with the latest supported one', async () => {
    const server = makeServer();
    const { transport, peer } = createMemoryTransportPair();
    server.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '1999-01-01', capabilities: {} } });
    await flush();
    expect((peer.received[0] as { result: { protocolVersion: string } }).result.protocolVersion).toBe(LATEST_MCP_PROTOCOL_VERSION);
    expect(MCP_PROTOCOL_VERSIONS).toEqual(['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07']);
  });

  it('answers initialize without a protocolVersion with -32602', async () => {
    const server = makeServer();
    const { transport, peer } = createMemoryTransportPair();
    server.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { capabilities: {} } });
    await flush();
    expect(peer.received).toMatchObject([{ id: 1, error: { code: ErrorCode.InvalidParams } }]);
  });

  it('refuses requests other than ping before initialize with -32005', async () => {
    const server = makeServer();
    const { transport, peer } = createMemoryTransportPair();
    server.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'ping' });
    await flush();
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: ErrorCode.NotInitialized, message: 'Server not initialized', data: { method: 'tools/list' } } },
      { jsonrpc: '2.0', id: 2, result: {} },
    ]);
  });

  it('answers instructions when the server has them, and a JSON-RPC batch with -32600', async () => {
    const server = makeServer({ instructions: 'Use echo.' });
    const { transport, peer } = createMemoryTransportPair();
    server.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } });
    peer.send([{ jsonrpc: '2.0', id: 2, method: 'ping' }]);
    await flush();
    expect(peer.received).toMatchObject([
      { id: 1, result: { instructions: 'Use echo.' } },
      { id: null, error: { code: ErrorCode.InvalidRequest } },
    ]);
  });

  it('refuses a second initialize with -32600', async () => {
    const { peer } = await connectInitialized(makeServer());
    peer.send({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: LATEST_MCP_PROTOCOL_VERSION } });
    await flush();
    expect(peer.received).toMatchObject([{ id: 2, error: { code: ErrorCode.InvalidRequest } }]);
  });
});

describe('MCP tools', () => {
  it('lists every tool with a JSON Schema made from its zod schema', async () => {
    const { peer } = await connectInitialized(makeServer());
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await flush();
    const result = (peer.received[0] as { result: { tools: Array<{ name: string; inputSchema: unknown; description?: string }> } }).result;
    expect(result.tools.map((t) => t.name)).toEqual(['echo', 'wait', 'fail', 'json', 'waitOnCancel']);
    expect(result.tools[0]).toEqual({
      name: 'echo',
      description: 'Echo text',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    });
  });

  it('calls a tool and answers its text as text content', async () => {
    const { peer } = await connectInitialized(makeServer());
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'json', arguments: {} } });
    await flush();
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'hi' }] } },
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '{"a":1}' }] } },
    ]);
  });

  it('answers bad arguments, an unknown tool and a missing name with -32602', async () => {
    const { peer } = await connectInitialized(makeServer());
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 42 } } });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nope', arguments: {} } });
    peer.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { arguments: {} } });
    await flush();
    expect(peer.received).toMatchObject([
      { id: 1, error: { code: ErrorCode.InvalidParams, message: 'Invalid arguments for tool echo' } },
      { id: 2, error: { code: ErrorCode.InvalidParams, message: 'Unknown tool: nope' } },
      { id: 3, error: { code: ErrorCode.InvalidParams } },
    ]);
  });

  it('turns an error thrown by a tool into a result with isError', async () => {
    const server = makeServer();
    const { peer } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fail', arguments: { message: 'boom' } } });
    await flush();
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'boom' }], isError: true } }]);
    expect(server.stats().completed).toBeGreaterThan(0);
  });

  it('refuses duplicate tool names', () => {
    expect(() => createMcpServer({ name: 'x', version: '1', tools: [tools[0]!, tools[0]!] })).toThrow(/duplicate tool name: echo/);
  });
});

describe('MCP cancellation', () => {
  it('cancels on notifications/cancelled with reason client and sends no response for it', async () => {
    seen.aborted.length = 0;
    const server = makeServer();
    const { peer } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 0, method: 'tools/call', params: { name: 'wait', arguments: { ms: 60_000 } } });
    peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0, reason: 'user' } });
    await flush();
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'still here' } } });
    await flush();
    expect(seen.aborted).toEqual(['client']);
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'still here' }] } }]);
    expect(server.stats().cancelled.client).toBe(1);
  });

  it('calls a tool\'s ctx.onCancel listener on notifications/cancelled, and on close with the close\'s reason', async () => {
    seen.aborted.length = 0;
    const server = makeServer();
    const { peer, session } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'waitOnCancel', arguments: {} } });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'waitOnCancel', arguments: {} } });
    peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await flush();
    expect(seen.aborted).toEqual(['onCancel:client']);
    session.close('shutdown');
    await session.closed;
    expect(seen.aborted).toEqual(['onCancel:client', 'onCancel:shutdown']);
    expect(server.stats()).toMatchObject({ abandoned: 0, cancelling: 0 });
  });

  it('ignores a cancel for an unknown or finished id', async () => {
    const server = makeServer();
    const { peer } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { text: 'a' } } });
    await flush();
    peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5 } });
    peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'never' } });
    await flush();
    expect(peer.received).toHaveLength(1);
    expect(server.stats().cancelled.client).toBe(0);
  });

  it('ignores cancel notifications with a malformed requestId, answers invalid params -32600, and keeps serving', async () => {
    const server = makeServer();
    const { peer } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wait', arguments: { ms: 20 } } });
    for (const params of [undefined, null, 'x', { requestId: { id: 1 } }, { requestId: [1] }, { requestId: true }]) {
      peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params });
    }
    await sleep(40);
    // params null and 'x' are not JSON-RPC params at all: the codec answers them; the others are ignored.
    const invalid = { jsonrpc: '2.0', id: null, error: { code: ErrorCode.InvalidRequest, message: 'Invalid Request', data: 'params: Invalid input' } };
    expect(peer.received).toEqual([invalid, invalid, { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'waited 20' }] } }]);
    expect(server.stats()).toMatchObject({ failed: 0, sessionFailures: 0, cancelled: { client: 0 } });
  });

  it('answers a request timeout with -32001 and a drain timeout with -32800', async () => {
    const clock = createTestClock();
    const server = makeServer({ clock, limits: { requestTimeoutMs: 100, drainTimeoutMs: 1000, cancelGraceMs: 10 } });
    const { peer, session } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wait', arguments: { ms: 60_000 } } });
    clock.advance(100);
    await flush();
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: ErrorCode.RequestTimeout, message: 'Request timed out', data: { reason: 'request-timeout' } } }]);
    const server2 = makeServer({ clock, limits: { drainTimeoutMs: 50, cancelGraceMs: 10 } });
    const second = await connectInitialized(server2);
    second.peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait', arguments: { ms: 60_000 } } });
    second.peer.endInput();
    clock.advance(50);
    await flush();
    expect(second.peer.received).toEqual([{ jsonrpc: '2.0', id: 2, error: { code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason: 'drain-timeout' } } }]);
    await second.session.closed;
    session.close();
    await session.closed;
  });

  it('does not let a client cancel initialize', async () => {
    // A slow initialize under the MCP dialect: the cancel for it must be ignored.
    let aborted = false;
    const server = createSupervisor({
      dialect: mcpDialect,
      methods: {
        initialize: async (_params, ctx) => {
          ctx.signal.addEventListener('abort', () => (aborted = true), { once: true });
          await sleep(5);
          return { protocolVersion: '2025-06-18' };
        },
      },
    });
    const { transport, peer } = createMemoryTransportPair();
    server.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 9, method: 'initialize', params: { protocolVersion: '2025-06-18' } });
    peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9 } });
    await sleep(20);
    expect(aborted).toBe(false);
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 9, result: { protocolVersion: '2025-06-18' } }]);
    expect(server.stats().cancelled.client).toBe(0);
  });
});

describe('MCP progress and ping', () => {
  const progressTool = defineTool({
    name: 'steps',
    input: z.object({ n: z.number() }),
    run: async ({ n }, ctx) => {
      const sent: boolean[] = [];
      for (let i = 1; i <= n; i += 1) {
        sent.push(ctx.progress(i, n, `step ${i}`));
        await sleep(1);
      }
      return JSON.stringify(sent);
    },
  });

  it('sends notifications/progress with the request progressToken, and nothing without one', async () => {
    const server = createMcpServer({ name: 's', version: '1', tools: [progressTool] });
    const { peer } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'steps', arguments: { n: 2 }, _meta: { progressToken: 0 } } });
    await sleep(20);
    peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'steps', arguments: { n: 1 } } });
    await sleep(20);
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 0, progress: 1, total: 2, message: 'step 1' } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 0, progress: 2, total: 2, message: 'step 2' } },
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: '[true,true]' }] } },
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '[false]' }] } },
    ]);
  });

  it('blocks progress once the session closed and counts it', async () => {
    let progressAfterClose: boolean | undefined;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const stubborn = defineTool({
      name: 'stubborn',
      input: z.object({}),
      run: async (_args, ctx) => {
        await released;
        progressAfterClose = ctx.session.notify('notifications/progress', { progressToken: 't', progress: 1 });
        return 'late';
      },
    });
    const server = createMcpServer({ name: 's', version: '1', tools: [stubborn], limits: { cancelGraceMs: 60_000 } });
    const { peer, transport, session } = await connectInitialized(server);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'stubborn', arguments: {}, _meta: { progressToken: 't' } } });
    peer.vanish();
    release();
    await session.closed;
    expect(progressAfterClose).toBe(false);
    expect(server.stats().blockedSends).toBeGreaterThanOrEqual(1);
    expect(transport.writesAfterClose).toBe(0);
  });

  it('pings the client from the server and resolves on its answer', async () => {
    const { pingClient } = await import('../../src/mcp/index.js');
    const server = makeServer();
    const { peer, session } = await connectInitialized(server);
    peer.onMessage((message) => {
      const m = message as { id?: number; method?: string };
      if (m.method === 'ping' && m.id !== undefined) peer.send({ jsonrpc: '2.0', id: m.id, result: {} });
    });
    await expect(pingClient(session, { timeoutMs: 5000 })).resolves.toBeUndefined();
    expect(peer.received).toMatchObject([{ method: 'ping' }]);
  });
});
