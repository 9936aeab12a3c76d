import { createMemoryTransportPair, createTestClock, type Supervisor } from '../../src/index.js';
import { LATEST_MCP_PROTOCOL_VERSION } from '../../src/mcp/index.js';

/** Let promise callbacks and immediates run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Attach a memory pair to the server and run the MCP handshake on it. */
export async function connectInitialized(server: Supervisor) {
  const { transport, peer } = createMemoryTransportPair();
  const session = server.attach(transport);
  peer.send({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: LATEST_MCP_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'test', version: '0' } },
  });
  peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await flush();
  peer.received.length = 0;
  return { transport, peer, session };
}

export { createTestClock };
