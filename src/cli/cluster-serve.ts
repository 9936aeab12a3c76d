import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { runClusterPrimary, sumStats, type WorkerEnd } from '../cluster.js';
import { startClusterMetricsServer } from '../observability/cluster-metrics.js';
import type { ServeOptions } from './args.js';
import { lifetimeCounters } from './counters.js';
import { probeOptions } from './phases.js';
import { runServe } from './serve.js';

const writeErr = (text: string): void => {
  process.stderr.write(text);
};

/**
 * The workers `serve` runs: `--workers N`, `auto` for the available parallelism, default 1 (legacy
 * HTTP sessions live in one worker; see docs/operations-scale.md for why).
 *
 * @example
 * ```ts
 * workerCount({ stdio: false, workers: 'auto' }); // os.availableParallelism()
 * ```
 */
export function workerCount(options: Pick<ServeOptions, 'stdio' | 'workers'>): number {
  if (options.stdio) return 1;
  return options.workers === 'auto' ? availableParallelism() : (options.workers ?? 1);
}

/**
 * The note `serve` prints when it runs more than one worker: node:cluster spreads connections, not
 * sessions, so a legacy (2025-11-25 and before) HTTP session may meet a worker that does not know it.
 *
 * @example
 * ```ts
 * process.stderr.write(`${CLUSTER_NOTE}\n`);
 * ```
 */
export const CLUSTER_NOTE =
  'legacy HTTP sessions (Mcp-Session-Id, 2025-11-25 and before) live in one worker and get 404 on the others: with --workers > 1 serve modern (2026-07-28) HTTP clients or WebSocket sessions, or run one instance per core behind HAProxy (deploy/haproxy), which sticks by Mcp-Session-Id';

/** One worker in the summary: how it ended, its phases, its own counters and its HTTP listener's. */
function describeEnd(end: WorkerEnd): object {
  return {
    worker: end.id,
    pid: end.pid,
    code: end.code,
    signal: end.signal,
    phases: end.phases,
    ...(end.stats === undefined ? {} : { counters: lifetimeCounters(end.stats) }),
    ...end.extra,
  };
}

/**
 * `serve` with `--workers N` (N > 1) on node:cluster: the primary forks N workers sharing the port,
 * replaces one that dies (a JSON line `worker replaced` on stderr: its sessions ended with it), and
 * on SIGTERM forwards it to every worker; once all have exited it prints the summed counters with
 * each worker's phases as the last stderr line and exits 0 when every worker exited 0. A worker runs
 * `serve` as one process would, and reports its final stats to the primary over IPC.
 *
 * @example
 * ```ts
 * const options = parseServeArgs(['--workers', '2']);
 * if (options.kind === 'serve') await runServeCluster(options);
 * ```
 */
export async function runServeCluster(options: ServeOptions): Promise<void> {
  const workers = workerCount(options);
  if (workers === 1 || cluster.isWorker) {
    await runServe(options);
    return;
  }
  writeErr(`${JSON.stringify({ msg: 'cluster', workers, pid: process.pid, note: CLUSTER_NOTE })}\n`);
  const primary = runClusterPrimary({
    workers,
    onSignal: (signal, count) => {
      writeErr(`${JSON.stringify({ msg: count === 1 ? 'shutdown' : 'shutdown forced', signal, workers: primary.workers })}\n`);
    },
    onWorkerExit: (end) => {
      if (end.replaced) writeErr(`${JSON.stringify({ msg: 'worker replaced', reason: 'worker-exit', ...describeEnd(end) })}\n`);
    },
  });
  const metrics =
    options.metricsPort === undefined
      ? undefined
      : await startClusterMetricsServer(primary, { host: options.host, port: options.metricsPort, ...probeOptions(options) });
  if (metrics !== undefined) writeErr(`metrics ${metrics.url}\n`);
  const ends = await primary.stopped;
  await metrics?.close();
  const finals = ends.filter((e) => !e.replaced);
  const total = sumStats(finals.flatMap((e) => (e.stats === undefined ? [] : [e.stats])));
  const summary = {
    ...(total === undefined ? {} : lifetimeCounters(total)),
    workers: finals.map(describeEnd),
    workersReplaced: primary.replaced,
  };
  writeErr(`${JSON.stringify(summary)}\n`);
  const clean = finals.every((e) => e.code === 0 && e.stats !== undefined);
  process.exitCode = clean ? 0 : 1;
}
