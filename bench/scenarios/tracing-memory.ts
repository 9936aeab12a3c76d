/**
 * tracing-memory: our MCP server (demo tools) over the in-memory transport, `tools/call echo` in a
 * closed loop, in one process: `--tracing none` (not traced), `noop` (traceSupervisor, no tracer
 * provider registered: what an application without OpenTelemetry pays), `sdk` (a registered SDK
 * provider, every span sampled and batched to an exporter that drops them). In-process, so the
 * CPU per call is the server's and the client's only, with no sockets: the rows differ by the
 * tracing alone. Prints one `RESULT` line per shape, named `tracing-memory-<mode>`.
 */
import { createMcpServer } from '../../src/mcp/server.js';
import { demoTools } from '../../src/demo/tools.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import { arg, closedLoop, parseShapes, type Call } from '../lib/closed-loop.js';
import { startBenchTracing } from '../lib/tracing.js';

const mode = arg('tracing', 'none');
const server = createMcpServer({ name: 'bench', version: '1.0.0', tools: demoTools });
if (mode !== 'none') startBenchTracing(server, mode);

function channel(): Call {
  const { transport, peer } = createMemoryTransportPair();
  server.attach(transport);
  const pending = new Map<number, (ok: boolean) => void>();
  peer.onMessage((message) => {
    const { id, result } = message as { id?: unknown; result?: unknown };
    if (typeof id !== 'number') return;
    pending.get(id)?.(result !== undefined);
    pending.delete(id);
  });
  let nextId = 1;
  peer.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
  peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return () =>
    new Promise<boolean>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      // Keep the peer's record of every message from growing over the run.
      peer.received.splice(0);
      peer.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
    });
}

const warmup = Number(arg('warmup', '300'));
const measure = Number(arg('measure', '1000'));
for (const shape of parseShapes(arg('shapes', '1x1,1x32,100x32'))) {
  const calls = Array.from({ length: shape.connections }, () => channel());
  const result = await closedLoop(`tracing-memory-${mode}`, calls, shape.inFlight, warmup, measure);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
await server.close();
