import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { InspectionEvent } from 'xstate';
import { demoMethods, demoTools } from '../demo/tools.js';
import { createMcpServer } from '../mcp/server.js';
import { startDashboard } from '../observability/dashboard.js';
import { createCliInspector, type CliInspector, type CliInspectorOptions } from '../observability/inspect.js';
import { httpMetrics } from '../observability/http-metrics.js';
import { startMetricsServer, supervisorMetrics } from '../observability/metrics.js';
import type { Limits } from '../runtime/context.js';
import type { MethodTable } from '../runtime/methods.js';
import { attachClusterWorker, reportToPrimary } from '../cluster.js';
import { shutdownOnSignals, type ShutdownListener } from '../shutdown.js';
import cluster from 'node:cluster';
import type { Supervisor } from '../supervisor.js';
import { serveStdio } from '../transports/stdio.js';
import { listenHttp } from '../transports/http.js';
import type { HttpStats } from '../transports/http/stats.js';
import type { ServeOptions } from './args.js';
import { logPhases, probeOptions, shutdownSummary } from './phases.js';
import { createDebugStats, DEBUG_STATS_ENV, DEBUG_STATS_METHOD, type DebugStats } from './debug-stats.js';
import { reportDrainProgress } from './drain-progress.js';
import { firstRunText } from './first-run.js';
import { createCliLogger, type CliLogger } from './logger.js';

/** The demo server's name and version in `serverInfo`. */
const SERVER_INFO = { name: 'session-supervisor-demo', version: '0.1.0' };

/** How long after the final line the process may take to exit by itself before it is ended. */
const EXIT_GRACE_MS = 250;

/** The signals that drain (the first) and force (the second). */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

const writeErr = (text: string): void => {
  process.stderr.write(text);
};

function limitsOf(options: ServeOptions): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (options.drainTimeoutMs !== undefined) limits.drainTimeoutMs = options.drainTimeoutMs;
  if (options.requestTimeoutMs !== undefined) limits.requestTimeoutMs = options.requestTimeoutMs;
  if (options.maxInFlight !== undefined) limits.maxInFlight = options.maxInFlight;
  if (options.maxMessageBytes !== undefined) limits.maxMessageBytes = options.maxMessageBytes;
  if (options.cancelGraceMs !== undefined) limits.cancelGraceMs = options.cancelGraceMs;
  return limits;
}

/** One inspection callback for the Stately inspector (`--inspect`) and the debug statistics (env). */
function inspectorOf(cli: CliInspector | undefined, debug: DebugStats | undefined): ((event: InspectionEvent) => void) | undefined {
  if (cli === undefined && debug === undefined) return undefined;
  return (event) => {
    debug?.inspect(event);
    cli?.next(event);
  };
}

/** The built-in relay's port, and the offline hint that points to the local dashboard (once it listens). */
function inspectOptionsOf(options: ServeOptions, dashboardUrl: () => string | undefined): CliInspectorOptions {
  return {
    ...(options.inspectPort === undefined ? {} : { port: options.inspectPort }),
    offlineHint: () => {
      const url = dashboardUrl();
      return url === undefined
        ? 'Run serve with --dashboard-port N (for example --dashboard-port 8790) for the local dashboard, which needs no network.'
        : `The local dashboard needs no network: open ${url} (--dashboard-port).`;
    },
  };
}

const closesWith = (close: () => Promise<void>): ShutdownListener => ({ stopAccepting: () => {}, close });

/** At `info`: one readable line per session opened and closed, and per cancelled request, with the reason. */
function logEvents(supervisor: Supervisor, logger: CliLogger): void {
  supervisor.on('session.opened', (e) => logger.info(e, `session ${e.sessionId} opened (${e.transport})`));
  supervisor.on('session.closed', (e) => {
    const why = e.reason ?? (e.drainReason === null ? 'drained' : `drained after ${e.drainReason}`);
    logger.info({ sessionId: e.sessionId, reason: e.reason, drainReason: e.drainReason }, `session ${e.sessionId} closed (${why})`);
  });
  supervisor.on('request.cancelled', (e) => logger.info(e, `request ${String(e.requestId)} ${e.method} cancelled (${e.reason})`));
  supervisor.on('handler.abandoned', (e) => logger.warn(e, 'handler abandoned: it ignored its cancellation'));
  supervisor.on('session.failed', (e) => logger.error({ sessionId: e.sessionId, err: e.error }, 'session failed'));
}

/** In a cluster worker only SIGTERM (from the primary) starts the shutdown; a terminal's SIGINT goes to the primary. */
function workerSignals(signals: readonly NodeJS.Signals[]): readonly NodeJS.Signals[] {
  if (!cluster.isWorker) return signals;
  process.on('SIGINT', () => {});
  return ['SIGTERM'];
}

/**
 * Run `session-supervisor serve`: the demo MCP server over WebSocket and Streamable HTTP on one port
 * (or stdio), until SIGTERM or
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
  const logger = createCliLogger(options.logLevel, { write: writeErr, pretty: process.stderr.isTTY });
  let dashboardUrl: string | undefined;
  const cliInspector = options.inspect ? createCliInspector(inspectOptionsOf(options, () => dashboardUrl)) : undefined;
  const debug = process.env[DEBUG_STATS_ENV] === '1' ? createDebugStats() : undefined;
  const inspect = inspectorOf(cliInspector, debug);
  const methods: MethodTable = { ...demoMethods, ...debug?.methods(() => supervisor) };
  const supervisor: Supervisor = createMcpServer({
    ...SERVER_INFO,
    tools: demoTools,
    methods,
    openMethods: debug === undefined ? ['echo'] : ['echo', DEBUG_STATS_METHOD],
    limits: limitsOf(options),
    logger,
    ...(inspect === undefined ? {} : { inspect }),
  });
  logEvents(supervisor, logger);
  logPhases(supervisor, logger);
  debug?.watch(supervisor);

  // The HTTP listener's counters, once it listens (a cluster worker reports them with its stats).
  const http: { stats?: () => HttpStats } = {};
  let reported = false;
  let stopProgress = (): void => {};
  const report = (): void => {
    if (reported) return;
    reported = true;
    stopProgress();
    logger.silence();
    writeErr(`${JSON.stringify(shutdownSummary(supervisor.stats(), supervisor.phases(), http.stats?.()))}\n`);
    reportToPrimary(supervisor.stats(), supervisor.phases(), http.stats === undefined ? undefined : { http: http.stats() });
  };
  const exit = (code: number): void => {
    report();
    process.exitCode = code;
    // Handlers that ignored their cancellation may still hold the event loop: end after a grace.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  };

  // Closed after the drain, in this order: the socket listener (WebSocket mode), metrics, dashboard, inspector.
  const listeners: ShutdownListener[] = [];
  const host = options.stdio ? '127.0.0.1' : options.host;
  // The registry the HTTP listener's families join once it listens.
  let metricsRegistry: Registry | undefined;
  if (cluster.isWorker) {
    // The primary serves the metrics port, aggregated over the workers, and sums their live stats.
    metricsRegistry = options.metricsPort === undefined ? undefined : supervisorMetrics(supervisor, { defaultMetrics: true }).registry;
    attachClusterWorker(supervisor, metricsRegistry === undefined ? {} : { registry: metricsRegistry });
  } else if (options.metricsPort !== undefined) {
    const metrics = await startMetricsServer(supervisor, { host, port: options.metricsPort, defaultMetrics: true, ...probeOptions(options) });
    metricsRegistry = metrics.registry;
    writeErr(`metrics ${metrics.url}\n`);
    listeners.push(closesWith(() => metrics.close()));
  }
  if (options.dashboardPort !== undefined) {
    const dashboard = await startDashboard(supervisor, { host, port: options.dashboardPort });
    dashboardUrl = dashboard.url;
    writeErr(`dashboard ${dashboard.url}\n`);
    listeners.push(closesWith(() => dashboard.close()));
  }
  if (cliInspector !== undefined) listeners.push(closesWith(() => cliInspector.stop()));

  if (options.stdio) {
    const session = serveStdio(supervisor);
    stopProgress = reportDrainProgress(supervisor, logger, { signals: SIGNALS }).stop;
    shutdownOnSignals(supervisor, { signals: [...SIGNALS], listeners, onStopped: report, exit, shutdownDelayMs: options.shutdownDelayMs });
    void session.closed.then(async () => {
      // stdin ended (or stdout went away): the one session is over, so is the server.
      await supervisor.drain();
      await Promise.allSettled(listeners.map((l) => l.close()));
      exit(0);
    });
    logger.info({ transport: 'stdio' }, 'serving on stdin/stdout');
    return;
  }

  // One port: WebSocket upgrades on any path, Streamable HTTP on --http-path.
  const listener = await listenHttp(supervisor, {
    host: options.host,
    port: options.port,
    path: options.httpPath,
    webSocket: options.maxMessageBytes === undefined ? true : { maxPayload: options.maxMessageBytes },
    ...(options.maxMessageBytes === undefined ? {} : { maxBodyBytes: options.maxMessageBytes }),
    ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
    ...(options.sessionIdleTimeoutMs === undefined ? {} : { sessionIdleTimeoutMs: options.sessionIdleTimeoutMs }),
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...probeOptions(options),
  });
  listeners.unshift(listener);
  http.stats = () => listener.stats();
  if (metricsRegistry !== undefined) httpMetrics(listener, { registry: metricsRegistry });
  const signals = workerSignals(SIGNALS);
  stopProgress = reportDrainProgress(supervisor, logger, { signals }).stop;
  shutdownOnSignals(supervisor, { signals: [...signals], listeners, onStopped: report, exit, shutdownDelayMs: options.shutdownDelayMs });
  const urlHost = listener.host.includes(':') ? `[${listener.host}]` : listener.host;
  const wsUrl = `ws://${urlHost}:${listener.port}`;
  writeErr(`listening ${wsUrl}\n`);
  writeErr(`listening ${listener.url}\n`);
  if (!options.quiet) {
    writeErr(firstRunText({ wsUrl, httpUrl: listener.url, tools: demoTools.map((t) => t.name), cli: [process.execPath, cliScript()] }));
  }
}

/** The absolute path of the running CLI script (for the stdio host config entry). */
function cliScript(): string {
  const script = process.argv[1];
  return script === undefined ? 'session-supervisor' : resolve(script);
}
