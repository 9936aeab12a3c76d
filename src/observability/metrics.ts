import type { IncomingMessage, ServerResponse } from 'node:http';
import { CANCEL_REASONS } from '../../machines/reasons.js';
import { SUPERVISOR_PHASES } from '../../machines/supervisor.js';
import { serveHttp } from './listen.js';
import type { Supervisor, SupervisorStats } from '../supervisor.js';

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
 * Extras for {@link renderPrometheus}.
 *
 * @example
 * ```ts
 * renderPrometheus(supervisor.stats(), { latency: tracker.histogram(), labels: { server: 'notes' } });
 * ```
 */
export interface PrometheusExtras {
  /** The request latency histogram (see {@link trackLatency}). Left out: no histogram is written. */
  latency?: LatencyHistogram;
  /** Labels added to every sample (e.g. `{ server: 'notes' }`). */
  labels?: Record<string, string>;
  /** Metric name prefix. Default `session_supervisor_`. */
  prefix?: string;
}

/**
 * The content type of the Prometheus text format 0.0.4.
 *
 * @example
 * ```ts
 * response.setHeader('content-type', PROMETHEUS_CONTENT_TYPE);
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Render a supervisor's {@link SupervisorStats} (and optionally a latency histogram) in the
 * Prometheus text format 0.0.4. Every family has `# HELP` and `# TYPE`; counters end in `_total`.
 *
 * @example
 * ```ts
 * import { renderPrometheus } from 'session-supervisor';
 *
 * const text = renderPrometheus(supervisor.stats());
 * // # TYPE session_supervisor_in_flight gauge
 * // session_supervisor_in_flight 3
 * ```
 */
export function renderPrometheus(stats: SupervisorStats, extra: PrometheusExtras = {}): string {
  const prefix = extra.prefix ?? 'session_supervisor_';
  const common = Object.entries(extra.labels ?? {});
  for (const [name] of common) if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new RangeError(`invalid label name: ${name}`);
  const lines: string[] = [];
  const labelText = (own: Array<[string, string]>): string => {
    const all = [...common, ...own];
    return all.length === 0 ? '' : `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
  };
  const family = (name: string, type: 'gauge' | 'counter' | 'histogram', help: string, samples: Array<[Array<[string, string]>, number, string?]>): void => {
    lines.push(`# HELP ${prefix}${name} ${escapeHelp(help)}`, `# TYPE ${prefix}${name} ${type}`);
    for (const [labels, value, suffix] of samples) lines.push(`${prefix}${name}${suffix ?? ''}${labelText(labels)} ${formatValue(value)}`);
  };
  const one = (value: number): Array<[Array<[string, string]>, number]> => [[[], value]];

  family('healthy', 'gauge', '1 while the supervisor is healthy (session failures within the window at most maxSessionFailures).', one(stats.healthy ? 1 : 0));
  family('state', 'gauge', 'The supervisor state: 1 for the current one.', SUPERVISOR_PHASES.map((s) => [[['state', s]], stats.state === s ? 1 : 0]));
  family('sessions', 'gauge', 'Open sessions by connection state.', [
    [[['state', 'connected']], stats.sessions.connected],
    [[['state', 'draining']], stats.sessions.draining],
    [[['state', 'closing']], stats.sessions.closing],
  ]);
  family('sessions_opened_total', 'counter', 'Sessions attached since the start.', one(stats.sessions.total));
  family('in_flight', 'gauge', 'Handlers running now (not cancelled).', one(stats.inFlight));
  family('cancelling', 'gauge', 'Handlers cancelled but not yet settled or abandoned.', one(stats.cancelling));
  family('requests_total', 'counter', 'Requests that started a handler.', one(stats.requests));
  family('requests_completed_total', 'counter', 'Requests answered with a result.', one(stats.completed));
  family('requests_failed_total', 'counter', 'Requests whose handler threw or rejected (answered with an error).', one(stats.failed));
  family('requests_refused_total', 'counter', 'Requests refused before a handler ran (draining, overloaded, unknown method, bad params).', one(stats.refused));
  family('cancellations_total', 'counter', 'Handlers cancelled, by reason.', CANCEL_REASONS.map((r) => [[['reason', r]], stats.cancelled[r]]));
  family('abandoned_handlers_total', 'counter', 'Cancelled handlers that ignored their signal for longer than cancelGraceMs.', one(stats.abandoned));
  family('late_answers_total', 'counter', 'Answers from handlers already cancelled (dropped).', one(stats.lateAnswers));
  family('blocked_sends_total', 'counter', 'Frames the send guard blocked because the session could no longer send.', one(stats.blockedSends));
  family('session_failures_total', 'counter', 'Sessions whose own machinery failed (each closed alone).', one(stats.sessionFailures));
  family('session_failures_in_window', 'gauge', 'Session failures within failureWindowMs.', one(stats.failuresInWindow));

  const latency = extra.latency;
  if (latency !== undefined) {
    const samples: Array<[Array<[string, string]>, number, string]> = latency.buckets.map((b, i) => [[['le', formatValue(b)]], latency.counts[i] ?? 0, '_bucket']);
    samples.push([[['le', '+Inf']], latency.count, '_bucket'], [[], latency.sum, '_sum'], [[], latency.count, '_count']);
    family('request_duration_seconds', 'histogram', 'Time from request to answer (result or error), in seconds.', samples);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Options of {@link startMetricsServer}.
 *
 * @example
 * ```ts
 * await startMetricsServer(supervisor, { port: 9464 });
 * ```
 */
export interface MetricsServerOptions {
  /** Interface to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
  /** Latency buckets in seconds. Default {@link DEFAULT_LATENCY_BUCKETS}. */
  buckets?: readonly number[];
  /** Labels added to every sample. */
  labels?: Record<string, string>;
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
  close(): Promise<void>;
}

/**
 * Serve `GET /metrics` in the Prometheus text format: the supervisor's `stats()` and a request
 * latency histogram (recorded from the moment the server starts). Other paths → 404; other methods
 * on `/metrics` → 405.
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
export async function startMetricsServer(supervisor: Pick<Supervisor, 'stats' | 'on'>, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { host = '127.0.0.1', port = 0 } = options;
  const latency = trackLatency(supervisor, options.buckets === undefined ? {} : { buckets: options.buckets });
  const labels = options.labels;
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = renderPrometheus(supervisor.stats(), labels === undefined ? { latency: latency.histogram() } : { latency: latency.histogram(), labels });
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${String(error)}\n`);
      return;
    }
    response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  const http = await serveHttp(handle, host, port, () => latency.stop());
  return { url: `${http.origin}/metrics`, close: () => http.close() };
}
