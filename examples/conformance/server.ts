/**
 * The conformance fixture: an MCP server built on session-supervisor that exposes what the official
 * conformance suite (`@modelcontextprotocol/conformance`, server mode) asks for, on Streamable HTTP,
 * both eras on one endpoint.
 *
 *   npx tsx examples/conformance/server.ts --port 0
 *   npx tsx examples/conformance/server.ts --port 0 --task-store redis --redis-url redis://127.0.0.1:6379
 *
 * prints `listening http://127.0.0.1:PORT/mcp` on stderr; SIGTERM/SIGINT drain and exit 0.
 * The task store (the tasks extension's tools) is the in-memory one unless `--task-store redis`
 * (or `CONFORMANCE_TASK_STORE=redis`, with `CONFORMANCE_REDIS_URL`) picks Redis.
 */
import { parseArgs } from 'node:util';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';
import { createMcpServer, type McpServer } from '../../src/mcp/index.js';
import { connectRedisTaskStore, createTaskManager, type TaskManager } from '../../src/mcp/tasks/index.js';
import { conformanceCapabilities, conformanceMethods, conformanceTools } from './surface.js';
import { taskTools } from './task-tools.js';

/**
 * Where the fixture keeps its tasks.
 *
 * @example
 * ```ts
 * const store: FixtureTaskStore = { kind: 'redis', url: 'redis://127.0.0.1:6379' };
 * ```
 */
export type FixtureTaskStore = { kind: 'memory' } | { kind: 'redis'; url: string };

/**
 * Build the fixture server (not listening yet).
 *
 * @example
 * ```ts
 * const server = createConformanceServer();
 * const listener = await listenHttp(server, { port: 0 });
 * ```
 */
export function createConformanceServer(tasks: TaskManager = createTaskManager()): McpServer {
  const server: McpServer = createMcpServer({
    name: 'session-supervisor-conformance',
    version: '0.1.0',
    instructions: 'Conformance fixture of session-supervisor.',
    capabilities: conformanceCapabilities,
    tools: [...conformanceTools(() => server), ...taskTools()],
    tasks,
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
export async function startConformanceServer(
  port: number,
  taskStore: FixtureTaskStore = { kind: 'memory' },
): Promise<{ server: McpServer; listener: HttpListener; close(): Promise<void> }> {
  const store = taskStore.kind === 'redis' ? await connectRedisTaskStore({ url: taskStore.url }) : undefined;
  const tasks = createTaskManager(store === undefined ? {} : { store });
  const server = createConformanceServer(tasks);
  const listener = await listenHttp(server, { host: '127.0.0.1', port, path: '/mcp', keepAliveMs: 5_000 });
  const close = async () => {
    server.mcp.hub.endAll();
    await listener.close();
    await server.drain();
    await tasks.shutdown();
    await tasks.store.close();
  };
  return { server, listener, close };
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('examples/conformance/server.ts') === true;
if (isMain) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'task-store': { type: 'string', default: process.env['CONFORMANCE_TASK_STORE'] ?? 'memory' },
      'redis-url': { type: 'string', default: process.env['CONFORMANCE_REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`invalid --port: ${values.port}\n`);
    process.exit(2);
  }
  const kind = values['task-store'];
  if (kind !== 'memory' && kind !== 'redis') {
    process.stderr.write(`invalid --task-store: ${kind} (memory or redis)\n`);
    process.exit(2);
  }
  const started = await startConformanceServer(port, kind === 'redis' ? { kind, url: values['redis-url'] } : { kind }).catch((error: unknown) => {
    process.stderr.write(`could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
  const { listener, close } = started;
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
