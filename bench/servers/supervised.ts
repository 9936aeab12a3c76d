/**
 * Our server, as a server author would write it with the public API: `createMcpServer` with the
 * demo tools (`tools/call echo`) and a plain JSON-RPC `echo` method open before `initialize`.
 *
 * `--ws`: over `listenWebSocket` on 127.0.0.1 port 0; prints `READY {"port":N}` and answers memory
 * commands on stdin. `--stdio`: over `serveStdio` (stdout carries the protocol).
 * `--max-in-flight N` raises the per-session limit. `--tracing noop` runs `traceSupervisor` with no
 * tracer provider registered (what a user without OpenTelemetry set up pays); `--tracing sdk`
 * registers the OTel SDK, every span sampled and exported in batches to an exporter that drops them.
 */
import { createMcpServer } from '../../src/mcp/server.js';
import { demoTools } from '../../src/demo/tools.js';
import { listenWebSocket } from '../../src/transports/ws.js';
import { serveStdio } from '../../src/transports/stdio.js';
import { serveMemoryCommands } from '../lib/memory-probe.js';
import { startBenchTracing } from '../lib/tracing.js';

const maxInFlightIndex = process.argv.indexOf('--max-in-flight');
const maxInFlight = maxInFlightIndex >= 0 ? Number(process.argv[maxInFlightIndex + 1]) : undefined;

const server = createMcpServer({
  name: 'bench',
  version: '1.0.0',
  tools: demoTools,
  methods: { echo: (params: unknown) => params },
  openMethods: ['echo'],
  ...(maxInFlight === undefined ? {} : { limits: { maxInFlight } }),
});

const tracingIndex = process.argv.indexOf('--tracing');
if (tracingIndex >= 0) startBenchTracing(server, process.argv[tracingIndex + 1]);

if (process.argv.includes('--stdio')) {
  const session = serveStdio(server);
  await session.closed;
} else {
  const listener = await listenWebSocket(server, { host: '127.0.0.1', port: 0 });
  process.stdout.write(`READY ${JSON.stringify({ port: listener.port })}\n`);
  serveMemoryCommands(
    () => server.sessions().length,
    () => server.close(),
  );
  process.on('SIGTERM', () => {
    void server.close().then(() => listener.close()).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  });
}
