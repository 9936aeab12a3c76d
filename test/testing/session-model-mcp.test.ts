import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/index.js';
import { createMcpServer } from '../../src/mcp/index.js';
import { createSessionTestModel, type SessionServerFactory } from '../../src/testing/index.js';

// The model against an MCP server: the client initializes first (requests before it are refused),
// cancels with notifications/cancelled, and the MCP dialect sends no answer after a client cancel.
const mcpServer: SessionServerFactory = ({ clock, gate }) => ({
  supervisor: createMcpServer({
    name: 'model-test',
    version: '1.0.0',
    clock,
    methods: {
      'slow/wait': async (_params: unknown, ctx: RequestContext) => {
        await gate.hold(ctx);
        return { waited: true };
      },
    },
  }),
  slowMethod: 'slow/wait',
  cancelNotification: (requestId) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'model' } }),
  handshake: [
    {
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'model', version: '1.0.0' } },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
  ],
});

describe('createSessionTestModel against an MCP server', () => {
  const model = createSessionTestModel(mcpServer);

  it('covers every state and transition', () => {
    expect(model.coverage.missing).toEqual([]);
  });

  for (const path of model.paths) {
    it(`passes: ${path.description}`, async () => {
      await expect(path.run()).resolves.toBeUndefined();
    });
  }

  it('fails every path when the handshake is left out, since MCP refuses requests before initialize', async () => {
    const noHandshake: SessionServerFactory = async (context) => {
      const server = await mcpServer(context);
      return { supervisor: server.supervisor, slowMethod: server.slowMethod };
    };
    const path = createSessionTestModel(noHandshake, { settleTimeoutMs: 200 }).paths[0]!;
    await expect(path.run()).rejects.toThrow(/slow method 'slow\/wait' waits on the gate; not held; the client got .*-32005|Server not initialized/);
  });
});
