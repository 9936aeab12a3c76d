import type { Registry } from 'prom-client';
import type { HttpStats } from '../transports/http/stats.js';
import { one, registerFamilies, type FamilySpec } from './metric-families.js';

/**
 * The Streamable HTTP listener's families, read from `listener.stats()` at every scrape: legacy
 * sessions (open, created, closed idle, deleted, refused at `maxSessions`), modern exchanges,
 * refusals by HTTP status, and the frames that never went out.
 */
const HTTP_FAMILIES: readonly FamilySpec<HttpStats>[] = [
  { name: 'http_sessions', type: 'gauge', help: 'Legacy Streamable HTTP sessions (Mcp-Session-Id) open now.', samples: (s) => one(s.sessions.open) },
  { name: 'http_sessions_created_total', type: 'counter', help: 'Legacy HTTP sessions created by initialize.', samples: (s) => one(s.sessions.created) },
  {
    name: 'http_sessions_expired_total',
    type: 'counter',
    help: 'Legacy HTTP sessions closed by the idle timeout (nothing in flight, no stream open).',
    samples: (s) => one(s.sessions.expired),
  },
  { name: 'http_sessions_deleted_total', type: 'counter', help: 'Legacy HTTP sessions ended by the client with DELETE.', samples: (s) => one(s.sessions.deleted) },
  {
    name: 'http_sessions_refused_total',
    type: 'counter',
    help: 'initialize requests refused with 503 and Retry-After because maxSessions sessions were open.',
    samples: (s) => one(s.sessions.refused),
  },
  { name: 'http_exchanges', type: 'gauge', help: 'Modern (2026-07-28) HTTP exchanges in progress.', samples: (s) => one(s.exchanges.open) },
  { name: 'http_exchanges_total', type: 'counter', help: 'Modern HTTP exchanges (one POST, one session) since the start.', samples: (s) => one(s.exchanges.total) },
  {
    name: 'http_exchanges_aborted_total',
    type: 'counter',
    help: 'Modern HTTP exchanges whose client closed the response before the answer (their handlers were cancelled).',
    samples: (s) => one(s.exchanges.aborted),
  },
  {
    name: 'http_refused_total',
    type: 'counter',
    own: ['status'],
    help: 'HTTP requests refused before any session saw them, by status (400, 401, 403, 404, 405, 406, 408, 413, 415, 503).',
    samples: (s) => Object.entries(s.refused).map(([status, count]) => [{ status }, count] as const),
  },
  { name: 'http_writes_after_close_total', type: 'counter', help: 'Frames offered to a response that had ended (dropped; stays 0).', samples: (s) => one(s.writesAfterClose) },
  { name: 'http_undelivered_total', type: 'counter', help: 'Legacy frames that no open stream could carry (kept for resumption or dropped).', samples: (s) => one(s.undelivered) },
  { name: 'http_bodies_reading', type: 'gauge', help: 'Request bodies still arriving (each bounded by bodyTimeoutMs).', samples: (s) => one(s.bodiesReading) },
];

/**
 * Options of {@link httpMetrics}.
 *
 * @example
 * ```ts
 * const options: HttpMetricsOptions = { registry: metrics.registry, labels: { server: 'notes' } };
 * ```
 */
export interface HttpMetricsOptions {
  /** The registry to register into: the supervisor's (`supervisorMetrics(…).registry`) or your own. */
  registry: Registry;
  /** Metric name prefix. Default `session_supervisor_` (as {@link supervisorMetrics}). */
  prefix?: string;
  /** Labels added to every sample of ours. */
  labels?: Record<string, string>;
}

/**
 * Register a Streamable HTTP listener's (or handler's) counters in a prom-client registry, read
 * from its `stats()` at every scrape: `session_supervisor_http_sessions` and the legacy session
 * counters (created, expired by the idle timeout, deleted, refused at `maxSessions`), the modern
 * exchanges (open, total, aborted), `http_refused_total{status}`, writes after close, undelivered
 * frames and bodies being read. In a cluster, register into the registry each worker gives
 * `attachClusterWorker` (at any time: it is read at every scrape) and the primary sums the workers.
 * `stop()` removes them.
 *
 * @example
 * ```ts
 * const metrics = supervisorMetrics(server);
 * const listener = await listenHttp(server, { port: 3000 });
 * httpMetrics(listener, { registry: metrics.registry });
 * ```
 */
export function httpMetrics(source: { stats(): HttpStats }, options: HttpMetricsOptions): { stop(): void } {
  const { registry } = options;
  const names = registerFamilies(registry, HTTP_FAMILIES, () => source.stats(), { prefix: options.prefix ?? 'session_supervisor_', labels: options.labels ?? {} });
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
