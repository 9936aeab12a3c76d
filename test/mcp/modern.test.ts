import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryTransportPair, ErrorCode } from '../../src/index.js';
import {
  createMcpServer,
  defineTool,
  McpErrorCode,
  MetaKey,
  MODERN_MCP_PROTOCOL_VERSION,
  modernMetaOf,
  requestInput,
  type McpServer,
} from '../../src/mcp/index.js';
import { connectInitialized, flush } from './memory-session.js';
import { holdTool } from './peer-tools.js';

const meta = (extra: Record<string, unknown> = {}, capabilities: Record<string, unknown> = { elicitation: {}, sampling: {}, roots: {} }) => ({
  [MetaKey.protocolVersion]: MODERN_MCP_PROTOCOL_VERSION,
  [MetaKey.clientCapabilities]: capabilities,
  [MetaKey.clientInfo]: { name: 'modern-test', version: '0' },
  ...extra,
});

const cancelled: string[] = [];

function server(): McpServer {
  return createMcpServer({
    name: 'modern',
    version: '1.2.3',
    instructions: 'test server',
    capabilities: { prompts: { listChanged: true }, tools: { listChanged: true } },
    tools: [
      defineTool({ name: 'echo', input: z.object({ text: z.string() }), run: ({ text }) => text }),
      defineTool({
        name: 'ask',
        input: z.object({}),
        run: async (_args, ctx) => {
          const first = (await ctx.elicit('first', { mode: 'form', message: 'first?', requestedSchema: { type: 'object', properties: {} } })) as {
            content: { v: string };
          };
          const second = (await ctx.sample('second', { messages: [], maxTokens: 5 })) as { content: { text: string } };
          return `${first.content.v}+${second.content.text} round ${ctx.round}`;
        },
      }),
      defineTool({
        name: 'log',
        input: z.object({}),
        run: (_args, ctx) => {
          ctx.log('debug', 'fine detail');
          ctx.log('error', 'bad thing');
          return 'logged';
        },
      }),
      holdTool({ onCancel: (reason) => cancelled.push(reason.reason) }),
    ],
    methods: {
      'tools/list-era': (_params, ctx) => ({ era: requestInput(ctx).era }),
      'prompts/list': () => ({ prompts: [] }),
      'prompts/get': async (_params, ctx) => {
        const answer = (await requestInput(ctx).elicit('topic', { mode: 'form', message: 'topic?', requestedSchema: { type: 'object', properties: {} } })) as {
          content: { topic: string };
        };
        return { messages: [{ role: 'user', content: { type: 'text', text: answer.content.topic } }] };
      },
    },
  });
}

/** A session with no `initialize`: every request speaks for itself. */
function connect(s: McpServer) {
  const { transport, peer } = createMemoryTransportPair();
  s.attach(transport);
  const call = async (id: number, method: string, params: Record<string, unknown> = {}) => {
    peer.send({ jsonrpc: '2.0', id, method, params: { _meta: meta(), ...params } });
    await flush();
    await flush();
    return peer.received.find((m) => (m as { id?: unknown }).id === id) as { result?: any; error?: any };
  };
  return { transport, peer, call };
}

describe('MCP modern era (2026-07-28) over the memory transport', () => {
  it('admits requests that carry the modern _meta without initialize, with resultType and serverInfo', async () => {
    const { call } = connect(server());
    const list = await call(1, 'tools/list');
    expect(list.result.resultType).toBe('complete');
    expect(list.result.tools.map((t: { name: string }) => t.name)).toEqual(['echo', 'ask', 'log', 'hold']);
    expect(list.result.ttlMs).toBe(0);
    expect(list.result.cacheScope).toBe('private');
    expect(list.result._meta[MetaKey.serverInfo]).toEqual({ name: 'modern', version: '1.2.3' });
    const echo = await call(2, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    expect(echo.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'hi' }] });
    expect(echo.result.ttlMs).toBeUndefined();
  });

  it('answers server/discover with the modern versions, capabilities and instructions', async () => {
    const { call } = connect(server());
    const discover = await call(1, 'server/discover');
    expect(discover.result).toMatchObject({
      resultType: 'complete',
      supportedVersions: [MODERN_MCP_PROTOCOL_VERSION],
      capabilities: { tools: { listChanged: true }, prompts: { listChanged: true } },
      instructions: 'test server',
    });
  });

  it('refuses a bad _meta: missing → −32602, unsupported version → −32022 with supported/requested, removed method → −32601', async () => {
    const s = server();
    const { transport, peer } = createMemoryTransportPair();
    s.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'server/discover', params: { _meta: { [MetaKey.protocolVersion]: MODERN_MCP_PROTOCOL_VERSION } } });
    peer.send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: meta({ [MetaKey.protocolVersion]: 'v999' }) } });
    peer.send({ jsonrpc: '2.0', id: 4, method: 'ping', params: { _meta: meta() } });
    peer.send({ jsonrpc: '2.0', id: 5, method: 'initialize', params: { _meta: meta(), protocolVersion: '2025-11-25', capabilities: {} } });
    peer.send({ jsonrpc: '2.0', id: 6, method: 'tools/list' });
    await flush();
    const byId = (id: number) => (peer.received.find((m) => (m as { id: unknown }).id === id) as { error: any }).error;
    expect(byId(1).code).toBe(ErrorCode.InvalidParams);
    expect(byId(2).code).toBe(ErrorCode.InvalidParams);
    expect(byId(3)).toMatchObject({ code: McpErrorCode.UnsupportedProtocolVersion, data: { supported: [MODERN_MCP_PROTOCOL_VERSION], requested: 'v999' } });
    expect(byId(4).code).toBe(ErrorCode.MethodNotFound);
    expect(byId(5).code).toBe(ErrorCode.MethodNotFound);
    // No _meta and no initialize: the legacy rule still holds.
    expect(byId(6).code).toBe(ErrorCode.NotInitialized);
  });

  it('runs a tool through two input rounds (input_required, then complete), carrying answers in a signed requestState', async () => {
    const { call } = connect(server());
    const r1 = await call(1, 'tools/call', { name: 'ask', arguments: {} });
    expect(r1.result.resultType).toBe('input_required');
    expect(Object.keys(r1.result.inputRequests)).toEqual(['first']);
    expect(r1.result.inputRequests.first.method).toBe('elicitation/create');
    const r2 = await call(2, 'tools/call', {
      name: 'ask',
      arguments: {},
      inputResponses: { first: { action: 'accept', content: { v: 'A' } } },
      requestState: r1.result.requestState,
    });
    expect(r2.result.resultType).toBe('input_required');
    expect(Object.keys(r2.result.inputRequests)).toEqual(['second']);
    expect(r2.result.requestState).not.toBe(r1.result.requestState);
    const r3 = await call(3, 'tools/call', {
      name: 'ask',
      arguments: {},
      inputResponses: { second: { role: 'assistant', content: { type: 'text', text: 'B' }, model: 'm' } },
      requestState: r2.result.requestState,
    });
    expect(r3.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'A+B round 2' }] });
  });

  it('refuses a tampered, foreign or malformed requestState and malformed inputResponses with −32602', async () => {
    const { call } = connect(server());
    const r1 = await call(1, 'tools/call', { name: 'ask', arguments: {} });
    const state: string = r1.result.requestState;
    const tampered = `${state.slice(0, 5)}${state[5] === 'A' ? 'B' : 'A'}${state.slice(6)}`;
    const bad = await call(2, 'tools/call', { name: 'ask', arguments: {}, requestState: tampered });
    expect(bad.error).toMatchObject({ code: ErrorCode.InvalidParams, data: { reason: 'bad-signature' } });
    const foreign = await call(3, 'tools/call', { name: 'echo', arguments: { text: 'x' }, requestState: state });
    expect(foreign.error).toMatchObject({ code: ErrorCode.InvalidParams, data: { reason: 'other-request' } });
    const garbage = await call(4, 'tools/call', { name: 'ask', arguments: {}, requestState: 'nonsense' });
    expect(garbage.error.code).toBe(ErrorCode.InvalidParams);
    const notObject = await call(5, 'tools/call', { name: 'ask', arguments: {}, inputResponses: { first: 12345 } });
    expect(notObject.error.code).toBe(ErrorCode.InvalidParams);
    const nullResponses = await call(6, 'tools/call', { name: 'ask', arguments: {}, inputResponses: null });
    expect(nullResponses.error.code).toBe(ErrorCode.InvalidParams);
  });

  it('re-requests a missing answer instead of failing, and ignores answers it did not ask for', async () => {
    const { call } = connect(server());
    const r = await call(1, 'tools/call', { name: 'ask', arguments: {}, inputResponses: { wrong: { action: 'accept', content: {} } } });
    expect(r.result.resultType).toBe('input_required');
    expect(Object.keys(r.result.inputRequests)).toEqual(['first']);
  });

  it('answers −32021 naming the capability when the client did not declare it', async () => {
    const s = server();
    const { transport, peer } = createMemoryTransportPair();
    s.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask', arguments: {}, _meta: meta({}, {}) } });
    await flush();
    await flush();
    expect(peer.received[0]).toMatchObject({ id: 1, error: { code: McpErrorCode.MissingRequiredClientCapability, data: { requiredCapabilities: { elicitation: {} } } } });
  });

  it('asks for input on prompts/get too, and refuses input on other methods', async () => {
    const { call } = connect(server());
    const r1 = await call(1, 'prompts/get', { name: 'p' });
    expect(r1.result.resultType).toBe('input_required');
    const r2 = await call(2, 'prompts/get', { name: 'p', inputResponses: { topic: { action: 'accept', content: { topic: 'cats' } } }, requestState: r1.result.requestState });
    expect(r2.result).toMatchObject({ resultType: 'complete', messages: [{ content: { text: 'cats' } }] });
    const era = await call(3, 'tools/list-era');
    expect(era.result.era).toBe('modern');
  });

  it('sends log messages only when the request asked for them, from its level up', async () => {
    const s = server();
    const { peer, call } = connect(s);
    await call(1, 'tools/call', { name: 'log', arguments: {} });
    expect(peer.received.filter((m) => (m as { method?: string }).method === 'notifications/message')).toEqual([]);
    peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'log', arguments: {}, _meta: meta({ [MetaKey.logLevel]: 'warning' }) } });
    await flush();
    await flush();
    const logs = peer.received.filter((m) => (m as { method?: string }).method === 'notifications/message');
    expect(logs).toEqual([{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'error', data: 'bad thing' } }]);
  });

  it('streams subscriptions/listen: acknowledgment first, then only the asked-for changes, tagged; ends on cancel', async () => {
    const s = server();
    const listener = connect(s);
    listener.peer.send({ jsonrpc: '2.0', id: 'sub', method: 'subscriptions/listen', params: { _meta: meta(), notifications: { promptsListChanged: true, resourcesListChanged: true } } });
    await flush();
    expect(listener.peer.received).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { [MetaKey.subscriptionId]: 'sub' }, notifications: { promptsListChanged: true } },
      },
    ]);
    s.mcp.changed('tools');
    s.mcp.changed('prompts');
    expect(listener.peer.received.slice(1)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/prompts/list_changed', params: { _meta: { [MetaKey.subscriptionId]: 'sub' } } },
    ]);
    expect(s.mcp.hub.size).toBe(1);
    listener.peer.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'sub' } });
    await flush();
    expect(s.mcp.hub.size).toBe(0);
    // A client cancel is answered with nothing (MCP).
    expect(listener.peer.received).toHaveLength(2);
  });

  it('ends a listen with a completion result when its session drains', async () => {
    const s = server();
    const listener = connect(s);
    listener.peer.send({ jsonrpc: '2.0', id: 9, method: 'subscriptions/listen', params: { _meta: meta(), notifications: { toolsListChanged: true } } });
    await flush();
    listener.peer.endInput();
    await flush();
    await flush();
    expect(listener.peer.received.at(-1)).toEqual({
      jsonrpc: '2.0',
      id: 9,
      result: { resultType: 'complete', _meta: { [MetaKey.subscriptionId]: 9, [MetaKey.serverInfo]: { name: 'modern', version: '1.2.3' } } },
    });
    expect(s.mcp.hub.size).toBe(0);
  });

  it('cancels a modern call with transport-closed when the peer vanishes, and writes nothing after', async () => {
    const s = server();
    const { transport, peer } = connect(s);
    cancelled.length = 0;
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'hold', arguments: {}, _meta: meta() } });
    await flush();
    peer.vanish();
    await flush();
    expect(cancelled).toEqual(['transport-closed']);
    expect(transport.writesAfterClose).toBe(0);
  });

  it('lists a tool with its own JSON Schema as it is (2020-12 keywords kept), and still validates with zod', async () => {
    const inputSchema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', $defs: { n: { $anchor: 'n', type: 'number' } }, properties: { n: { $ref: '#/$defs/n' } } };
    const s = createMcpServer({ name: 'schema', version: '1', tools: [defineTool({ name: 'raw', input: z.object({ n: z.number() }), inputSchema, run: ({ n }) => String(n) })] });
    const { call } = connect(s);
    const list = await call(1, 'tools/list');
    expect(list.result.tools).toEqual([{ name: 'raw', inputSchema }]);
    const bad = await call(2, 'tools/call', { name: 'raw', arguments: { n: 'x' } });
    expect(bad.error.code).toBe(ErrorCode.InvalidParams);
  });

  it('keeps the legacy era on initialized sessions: results without resultType, list_changed to every session', async () => {
    const s = server();
    const { peer } = await connectInitialized(s);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await flush();
    expect((peer.received[0] as { result: Record<string, unknown> }).result.resultType).toBeUndefined();
    s.mcp.changed('tools');
    expect(peer.received[1]).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  });
});

describe('modernMetaOf', () => {
  it('checks _meta once per message, leaves its JSON form alone, and reads a frozen message too', () => {
    const message = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta() } };
    const wire = JSON.stringify(message);
    const first = modernMetaOf(message);
    expect(first).toMatchObject({ protocolVersion: MODERN_MCP_PROTOCOL_VERSION, clientInfo: { name: 'modern-test', version: '0' } });
    expect(modernMetaOf(message)).toBe(first);
    expect(JSON.stringify(message)).toBe(wire);
    expect(Object.keys(message)).toEqual(['jsonrpc', 'id', 'method', 'params']);
    const frozen = Object.freeze({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: meta() } });
    expect(modernMetaOf(frozen)).toMatchObject({ protocolVersion: MODERN_MCP_PROTOCOL_VERSION });
    const legacy = { jsonrpc: '2.0', id: 3, method: 'tools/list' };
    expect(modernMetaOf(legacy)).toBeUndefined();
  });
});
