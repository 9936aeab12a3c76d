import type { InspectionEvent, Observer } from 'xstate';
import { createMcpServer } from '../mcp/server.js';
import { demoMethods, demoTools } from '../demo/tools.js';
import { shutdownOnSignals, type ShutdownListener } from '../shutdown.js';
import type { Limits } from '../runtime/context.js';
import type { Supervisor } from '../supervisor.js';
import { listenWebSocket } from '../transports/ws.js';
import { serveStdio } from '../transports/stdio.js';
import type { ServeOptions } from './args.js';
import { lifetimeCounters } from './counters.js';
import { createJsonLogger, type CliLogger } from './logger.js';
import { loadOptional } from './optional.js';

/** The demo server's name and version in `serverInfo`. */
const SERVER_INFO = { name: 'session-supervisor-demo', version: '0.1.0' };

/** How long after the final line the process may take to exit by itself before it is ended. */
const EXIT_GRACE_MS = 250;

type HttpSide = { url: string; close(): Promise<void> };
type StartHttp = (supervisor: Supervisor, options: { host: string; port: number }) => Promise<HttpSide>;

const writeErr = (text: string): void => {
  process.stderr.write(text);
};

function limitsOf(options: ServeOptions): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (options.drainTimeoutMs !== undefined) limits.drainTimeoutMs = options.drainTimeoutMs;
  if (options.requestTimeoutMs !== undefined) limits.requestTimeoutMs = options.requestTimeoutMs;
  if (options.maxInFlight !== undefined) limits.maxInFlight = options.maxInFlight;
  if (options.maxMessageBytes !== undefined) limits.maxMessageBytes = options.maxMessageBytes;
  return limits;
}

async function inspector(logger: CliLogger): Promise<Observer<InspectionEvent> | undefined> {
  const mod = await loadOptional<{ createCliInspector(): Observer<InspectionEvent> }>('../observability/inspect.js');
  if (mod === undefined) {
    writeErr('session-supervisor: --inspect is not available in this build (no observability/inspect module); serving without it\n');
    return undefined;
  }
  logger.info({}, 'inspector attached');
  return mod.createCliInspector();
}

async function startHttpSide(
  label: string,
  relative: string,
  exportName: string,
  supervisor: Supervisor,
  host: string,
  port: number,
): Promise<ShutdownListener | undefined> {
  const mod = await loadOptional<Record<string, StartHttp>>(relative);
  const start = mod?.[exportName];
  if (start === undefined) {
    writeErr(`session-supervisor: --${label}-port is not available in this build; serving without it\n`);
    return undefined;
  }
  const side = await start(supervisor, { host, port });
  writeErr(`${label} ${side.url}\n`);
  return { stopAccepting: () => {}, close: () => side.close() };
}

function logEvents(supervisor: Supervisor, logger: CliLogger): void {
  supervisor.on('session.opened', (e) => logger.debug(e, 'session opened'));
  supervisor.on('request.cancelled', (e) => logger.debug(e, 'request cancelled'));
  supervisor.on('handler.abandoned', (e) => logger.warn(e, 'handler abandoned: it ignored its cancellation'));
  supervisor.on('session.failed', (e) => logger.error({ sessionId: e.sessionId, err: e.error }, 'session failed'));
}

/**
 * Run `session-supervisor serve`: the demo MCP server over WebSocket (or stdio), until SIGTERM or
 * SIGINT (or, with `--stdio`, the end of stdin). Ends with one JSON line of lifetime counters on
 * stderr and exit code 0. Resolves once the server runs.
 *
 * @example
 * ```ts
 * const options = parseServeArgs(['--port', '0']);
 * if (options.kind === 'serve') await runServe(options);
 * ```
 */
export async function runServe(options: ServeOptions): Promise<void> {
  const logger = createJsonLogger(options.logLevel, writeErr);
  const inspect = options.inspect ? await inspector(logger) : undefined;
  const supervisor = createMcpServer({
    ...SERVER_INFO,
    tools: demoTools,
    methods: demoMethods,
    openMethods: ['echo'],
    limits: limitsOf(options),
    logger,
    ...(inspect === undefined ? {} : { inspect }),
  });
  logEvents(supervisor, logger);

  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    logger.silence();
    writeErr(`${JSON.stringify(lifetimeCounters(supervisor.stats()))}\n`);
  };
  const exit = (code: number): void => {
    report();
    process.exitCode = code;
    // Handlers that ignored their cancellation may still hold the event loop: end after a grace.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  };

  const listeners: ShutdownListener[] = [];
  const host = options.stdio ? '127.0.0.1' : options.host;
  if (options.metricsPort !== undefined) {
    const side = await startHttpSide('metrics', '../observability/metrics.js', 'startMetricsServer', supervisor, host, options.metricsPort);
    if (side !== undefined) listeners.push(side);
  }
  if (options.dashboardPort !== undefined) {
    const side = await startHttpSide('dashboard', '../observability/dashboard.js', 'startDashboard', supervisor, host, options.dashboardPort);
    if (side !== undefined) listeners.push(side);
  }

  if (options.stdio) {
    const session = serveStdio(supervisor);
    shutdownOnSignals(supervisor, { listeners, onStopped: report, exit });
    void session.closed.then(async () => {
      // stdin ended (or stdout went away): the one session is over, so is the server.
      await supervisor.drain();
      await Promise.allSettled(listeners.map((l) => l.close()));
      exit(0);
    });
    logger.info({ transport: 'stdio' }, 'serving on stdin/stdout');
    return;
  }

  const listener = await listenWebSocket(supervisor, {
    host: options.host,
    port: options.port,
    ...(options.maxMessageBytes === undefined ? {} : { maxPayload: options.maxMessageBytes }),
  });
  listeners.unshift(listener);
  shutdownOnSignals(supervisor, { listeners, onStopped: report, exit });
  writeErr(`listening ${listener.url}\n`);
}
