import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Supervisor, SupervisorStats } from '../supervisor.js';
import { createProbes, type ProbePaths, type ProbeTarget } from '../transports/http/probes.js';
import { serveHttp } from './listen.js';
import { registerStatsFamilies, type FamilyOptions } from './metric-families.js';

/**
 * The default latency buckets, in seconds (upper bounds; `+Inf` is added).
 *
 * @example
 * ```ts
 * trackLatency(supervisor, { buckets: [...DEFAULT_LATENCY_BUCKETS, 120] });
 * ```
 */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * A request latency histogram: cumulative counts per upper bound (seconds), the sum and the count.
 *
 * @example
 * ```ts
 * const h: LatencyHistogram = { buckets: [0.1, 1], counts: [3, 4], sum: 1.2, count: 5 };
 * // 3 requests took ≤ 0.1 s, 4 took ≤ 1 s, 5 in all (the +Inf bucket is `count`)
 * ```
 */
export interface LatencyHistogram {
  readonly buckets: readonly number[];
  /** Cumulative: `counts[i]` requests took at most `buckets[i]` seconds. */
  readonly counts: readonly number[];
  /** Sum of all durations, in seconds. */
  readonly sum: number;
  readonly count: number;
}

/**
 * Records the duration of every answered request (result or error, before any cancel) from the
 * supervisor's `request.completed` event.
 *
 * @example
 * ```ts
 * const latency = trackLatency(supervisor);
 * latency.histogram().count; // requests answered so far
 * latency.stop();
 * ```
 */
export interface LatencyTracker {
  histogram(): LatencyHistogram;
  /** Stop listening to the supervisor. */
  stop(): void;
}

/**
 * Start a {@link LatencyTracker} on `supervisor`.
 *
 * @example
 * ```ts
 * const latency = trackLatency(supervisor, { buckets: [0.01, 0.1, 1] });
 * ```
 */
export function trackLatency(supervisor: Pick<Supervisor, 'on'>, options: { buckets?: readonly number[] } = {}): LatencyTracker {
  const buckets = [...(options.buckets ?? DEFAULT_LATENCY_BUCKETS)].sort((a, b) => a - b);
  if (buckets.some((b) => !Number.isFinite(b) || b <= 0)) throw new RangeError('latency buckets must be finite numbers > 0');
  const perBucket = new Array<number>(buckets.length).fill(0);
  let sum = 0;
  let count = 0;
  const off = supervisor.on('request.completed', ({ durationMs }) => {
    const seconds = Math.max(0, durationMs) / 1000;
    sum += seconds;
    count += 1;
    const index = buckets.findIndex((b) => seconds <= b);
    if (index >= 0) perBucket[index]! += 1;
  });
  return {
    histogram() {
      let running = 0;
      const counts = perBucket.map((n) => (running += n));
      return { buckets, counts, sum, count };
    },
    stop: off,
  };
}

/**
 * The content type of the Prometheus text format 0.0.4 (what prom-client's default registry writes).
 *
 * @example
 * ```ts
 * response.setHeader('content-type', PROMETHEUS_CONTENT_TYPE);
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Options of {@link supervisorMetrics}, {@link renderPrometheus} and {@link startMetricsServer}.
 *
 * @example
 * ```ts
 * const options: MetricsOptions = { registry: new Registry(), labels: { server: 'notes' }, defaultMetrics: true };
 * ```
 */
export interface MetricsOptions {
  /**
   * The prom-client registry to register into. Default: a new `Registry` of our own (not
   * prom-client's global `register`), so two supervisors in one process never clash; pass
   * `register` from prom-client (or your own) to expose them beside your metrics; in a cluster,
   * pass the registry to `attachClusterWorker` and the primary aggregates it.
   */
  registry?: Registry;
  /** Metric name prefix. Default `session_supervisor_`. */
  prefix?: string;
  /** Labels added to every sample of ours (e.g. `{ server: 'notes' }`). */
  labels?: Record<string, string>;
  /** Latency buckets in seconds. Default {@link DEFAULT_LATENCY_BUCKETS}. */
  buckets?: readonly number[];
  /**
   * Also collect prom-client's default Node.js metrics (`process_*`, `nodejs_*`: CPU, memory,
   * heap, event-loop lag, GC, handles) into the registry. Default `false`: the library does not
   * start a collector on its own; the CLI turns it on.
   */
  defaultMetrics?: boolean;
}

/**
 * A supervisor's metrics registered into a prom-client registry.
 *
 * @example
 * ```ts
 * const metrics = supervisorMetrics(supervisor, { registry });
 * const text = await metrics.registry.metrics();
 * metrics.stop();
 * ```
 */
export interface SupervisorMetrics {
  /** The registry the metrics live in. */
  readonly registry: Registry;
  /** The exposition of the whole registry, in the Prometheus text format. */
  metrics(): Promise<string>;
  /** Stop recording latency and remove our metrics from the registry (idempotent). */
  stop(): void;
}

const validBuckets = (buckets: readonly number[] | undefined): number[] => {
  const sorted = [...(buckets ?? DEFAULT_LATENCY_BUCKETS)].sort((a, b) => a - b);
  if (sorted.some((b) => !Number.isFinite(b) || b <= 0)) throw new RangeError('latency buckets must be finite numbers > 0');
  return sorted;
};

function familyOptions(options: MetricsOptions, buckets: number[] | undefined): FamilyOptions {
  return { prefix: options.prefix ?? 'session_supervisor_', labels: options.labels ?? {}, ...(buckets === undefined ? {} : { buckets }) };
}

/**
 * Register a supervisor's metrics in a prom-client registry: its `stats()` read at every scrape
 * (gauges and counters; names and labels in docs/operations.md) and a request latency histogram
 * fed by `request.completed` (result or error, before any cancel).
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * import { supervisorMetrics } from 'session-supervisor';
 *
 * supervisorMetrics(supervisor, { registry: register, labels: { server: 'notes' } });
 * // your own /metrics handler: res.end(await register.metrics())
 * ```
 */
export function supervisorMetrics(supervisor: Pick<Supervisor, 'stats' | 'on'>, options: MetricsOptions = {}): SupervisorMetrics {
  const buckets = validBuckets(options.buckets);
  const registry = options.registry ?? new Registry();
  const families = registerStatsFamilies(registry, () => supervisor.stats(), familyOptions(options, buckets));
  const off = supervisor.on('request.completed', ({ durationMs }) => families.observe(Math.max(0, durationMs) / 1000));
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  let stopped = false;
  return {
    registry,
    metrics: () => registry.metrics(),
    stop() {
      if (stopped) return;
      stopped = true;
      off();
      families.remove();
    },
  };
}

/**
 * Render one {@link SupervisorStats} snapshot in the Prometheus text format 0.0.4 (through
 * prom-client): every family has `# HELP` and `# TYPE`; counters end in `_total`. No latency
 * histogram (that needs the events: see {@link supervisorMetrics}).
 *
 * @example
 * ```ts
 * import { renderPrometheus } from 'session-supervisor';
 *
 * const text = await renderPrometheus(supervisor.stats(), { labels: { server: 'notes' } });
 * // # TYPE session_supervisor_in_flight gauge
 * // session_supervisor_in_flight{server="notes"} 3
 * ```
 */
export async function renderPrometheus(stats: SupervisorStats, options: Pick<MetricsOptions, 'labels' | 'prefix'> = {}): Promise<string> {
  const registry = new Registry();
  registerStatsFamilies(registry, () => stats, familyOptions(options, undefined));
  return registry.metrics();
}

/**
 * Options of {@link startMetricsServer}.
 *
 * @example
 * ```ts
 * await startMetricsServer(supervisor, { port: 9464, defaultMetrics: true });
 * ```
 */
export interface MetricsServerOptions extends MetricsOptions, ProbePaths {
  /** Interface to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
}

/**
 * What {@link serveMetrics} serves: an exposition and its content type, and what the probes read.
 *
 * @example
 * ```ts
 * const source: MetricsSource = { metrics: () => registry.metrics(), contentType: registry.contentType, probe: supervisor, stop: () => {} };
 * ```
 */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
  /** Readiness and liveness of what the metrics describe (`/readyz`, `/healthz` on this port). */
  readonly probe: ProbeTarget;
  /** Release what the source feeds on (runs on close, or when listening fails). */
  stop(): void;
}

/**
 * Serve `GET /metrics` from `source` on `host:port`, with the liveness and readiness probes
 * (`healthPath`, `readyPath`: default `/healthz`, `/readyz`; `false` turns one off). Other paths →
 * 404; other methods on `/metrics` → 405; a failing exposition → 500.
 *
 * @example
 * ```ts
 * const http = await serveMetrics(source, { port: 9464 });
 * await http.close();
 * ```
 */
export async function serveMetrics(
  source: MetricsSource,
  options: { host?: string; port?: number } & ProbePaths,
): Promise<{ url: string; close(): Promise<void> }> {
  const probes = createProbes(source.probe, () => true, options);
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    if (probes(request, response)) return;
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    source.metrics().then(
      (body) => {
        response.writeHead(200, { 'content-type': source.contentType, 'content-length': Buffer.byteLength(body) });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${String(error)}\n`);
      },
    );
  };
  const http = await serveHttp(handle, options.host ?? '127.0.0.1', options.port ?? 0, () => source.stop());
  return { url: `${http.origin}/metrics`, close: () => http.close() };
}

/**
 * A running metrics endpoint.
 *
 * @example
 * ```ts
 * const metrics = await startMetricsServer(supervisor);
 * console.log(metrics.url); // http://127.0.0.1:54321/metrics
 * await metrics.close();
 * ```
 */
export interface MetricsServer {
  /** The full URL of the `/metrics` endpoint. */
  readonly url: string;
  /** The prom-client registry served. */
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * Serve `GET /metrics` in the Prometheus text format: the registry of {@link supervisorMetrics}
 * (the supervisor's `stats()` and a request latency histogram recorded from the moment the server
 * starts, plus, with `defaultMetrics`, the Node.js process metrics), and the probes `/healthz`
 * (200 while the process answers) and `/readyz` (200 while the supervisor is ready, 503 from its
 * first shutdown signal on; paths set by `healthPath` / `readyPath`, `false` turns one off), so a
 * kubelet or HAProxy can probe the metrics port too. Other paths → 404; other methods on
 * `/metrics` → 405.
 *
 * @example
 * ```ts
 * import { createSupervisor, startMetricsServer } from 'session-supervisor';
 *
 * const supervisor = createSupervisor({ methods });
 * const metrics = await startMetricsServer(supervisor, { port: 9464 });
 * // curl http://127.0.0.1:9464/metrics
 * ```
 */
export async function startMetricsServer(
  supervisor: Pick<Supervisor, 'stats' | 'on'> & Partial<ProbeTarget>,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const { host = '127.0.0.1', port = 0, healthPath, readyPath, ...metricsOptions } = options;
  const metrics = supervisorMetrics(supervisor, metricsOptions);
  // Readiness as the supervisor reports it; a stats-only target is ready while it runs.
  const probe: ProbeTarget = {
    get accepting() {
      return supervisor.accepting ?? supervisor.stats().state === 'running';
    },
    get ready() {
      return supervisor.ready ?? supervisor.stats().state === 'running';
    },
  };
  const source: MetricsSource = { metrics: () => metrics.metrics(), contentType: metrics.registry.contentType, probe, stop: () => metrics.stop() };
  const http = await serveMetrics(source, {
    host,
    port,
    ...(healthPath === undefined ? {} : { healthPath }),
    ...(readyPath === undefined ? {} : { readyPath }),
  });
  return { url: http.url, registry: metrics.registry, close: () => http.close() };
}
