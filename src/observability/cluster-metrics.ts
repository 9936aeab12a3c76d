import type { ClusterPrimary } from '../cluster.js';
import { PROMETHEUS_CONTENT_TYPE, serveMetrics, type MetricsServer } from './metrics.js';
import type { ProbePaths } from '../transports/http/probes.js';

/**
 * Options of {@link startClusterMetricsServer}.
 *
 * @example
 * ```ts
 * const options: ClusterMetricsServerOptions = { port: 9464, readyPath: '/ready' };
 * ```
 */
export interface ClusterMetricsServerOptions extends ProbePaths {
  /** Interface to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
}

/**
 * Serve, in a cluster primary, `GET /metrics` aggregated over every worker ({@link ClusterPrimary.metrics}:
 * each worker contributes the registry it passed to `attachClusterWorker`; the counters of a worker
 * that died stay in the sum), and the probes: `/healthz` 200 while the primary answers, `/readyz`
 * 200 while no shutdown signal came and at least one worker listens, 503 otherwise. A worker that
 * does not answer within 2 s is counted with its previous answer.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import { runClusterPrimary, startClusterMetricsServer } from 'session-supervisor';
 *
 * if (cluster.isPrimary) {
 *   const primary = runClusterPrimary({ workers: 4 });
 *   const metrics = await startClusterMetricsServer(primary, { port: 9464 });
 *   await primary.stopped;
 *   await metrics.close();
 * }
 * ```
 */
export async function startClusterMetricsServer(
  primary: Pick<ClusterPrimary, 'metrics' | 'ready' | 'accepting'>,
  options: ClusterMetricsServerOptions = {},
): Promise<Omit<MetricsServer, 'registry'>> {
  const source = { metrics: () => primary.metrics(), contentType: PROMETHEUS_CONTENT_TYPE, probe: primary, stop: () => {} };
  return serveMetrics(source, options);
}
