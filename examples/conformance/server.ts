/**
 * The conformance fixture: an MCP server built on session-supervisor that exposes what the official
 * conformance suite (`@modelcontextprotocol/conformance`, server mode) asks for, on Streamable HTTP,
 * both eras on one endpoint.
 *
 *   npx tsx examples/conformance/server.ts --port 0
 *
 * prints `listening http://127.0.0.1:PORT/mcp` on stderr; SIGTERM/SIGINT drain and exit 0.
 */
import { parseArgs } from 'node:util';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';
import { createMcpServer, type McpServer } from '../../src/mcp/index.js';
import { conformanceCapabilities, conformanceMethods, conformanceTools } from './surface.js';

/**
 * Build the fixture server (not listening yet).
 *
 * @example
 * ```ts
 * const server = createConformanceServer();
 * const listener = await listenHttp(server, { port: 0 });
 * ```
 */
export function createConformanceServer(): McpServer {
  const server: McpServer = createMcpServer({
    name: 'session-supervisor-conformance',
    version: '0.1.0',
    instructions: 'Conformance fixture of session-supervisor.',
    capabilities: conformanceCapabilities,
    tools: conformanceTools(() => server),
    methods: conformanceMethods,
    limits: { drainTimeoutMs: 2_000, cancelGraceMs: 500 },
  });
  return server;
}

/**
 * Start the fixture on 127.0.0.1.
 *
 * @example
 * ```ts
 * const { listener, close } = await startConformanceServer(0);
 * console.log(listener.url);
 * await close();
 * ```
 */
export async function startConformanceServer(port: number): Promise<{ server: McpServer; listener: HttpListener; close(): Promise<void> }> {
  const server = createConformanceServer();
  const listener = await listenHttp(server, { host: '127.0.0.1', port, path: '/mcp', keepAliveMs: 5_000 });
  const close = async () => {
    server.mcp.hub.endAll();
    await listener.close();
    await server.drain();
  };
  return { server, listener, close };
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('examples/conformance/server.ts') === true;
if (isMain) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`invalid --port: ${values.port}\n`);
    process.exit(2);
  }
  const { listener, close } = await startConformanceServer(port);
  process.stderr.write(`listening ${listener.url}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
