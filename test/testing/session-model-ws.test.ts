import { describe, expect, it } from 'vitest';
import { createSupervisor, type RequestContext } from '../../src/index.js';
import { connectWebSocketClient, createSessionTestModel, type SessionServerFactory } from '../../src/testing/index.js';
import { listenWebSocket } from '../../src/transports/ws.js';

// The same model driven over a real WebSocket on 127.0.0.1 (WebSocket has no half-close).
const overWebSocket: SessionServerFactory = async ({ clock, gate }) => {
  const supervisor = createSupervisor({
    clock,
    methods: {
      slow: async (_params: unknown, ctx: RequestContext) => {
        await gate.hold(ctx);
        return 'finished';
      },
    },
  });
  const listener = await listenWebSocket(supervisor, { host: '127.0.0.1', port: 0 });
  return {
    supervisor,
    slowMethod: 'slow',
    connect: () => connectWebSocketClient(listener.url),
    dispose: () => listener.close(),
  };
};

describe('createSessionTestModel over a real WebSocket', () => {
  const model = createSessionTestModel(overWebSocket, { halfClose: false });

  it('leaves out only the half-close transition', () => {
    expect(model.coverage.missing).toEqual(['connection:connected --transport.inputEnded--> draining']);
  });

  for (const path of model.paths) {
    it(`passes over ws: ${path.description}`, async () => {
      await expect(path.run()).resolves.toBeUndefined();
    });
  }
});
