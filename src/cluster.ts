import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { PhaseTiming } from './runtime/phase-log.js';
import type { SupervisorStats } from './supervisor.js';

/** The IPC message a worker sends its primary with its final stats. */
const STATS_MESSAGE = 'session-supervisor.stats';

/**
 * One worker's end, as the primary saw it.
 *
 * @example
 * ```ts
 * const end: WorkerEnd = { id: 1, pid: 4242, code: 0, signal: null, replaced: false, stats: undefined, phases: [] };
 * ```
 */
export interface WorkerEnd {
  id: number;
  pid: number | undefined;
  code: number | null;
  signal: string | null;
  /** The worker died while the cluster ran and a new one took its place (its sessions ended with it). */
  replaced: boolean;
  /** Its final stats, when it reported them before exiting (a graceful stop does). */
  stats: SupervisorStats | undefined;
  phases: PhaseTiming[];
}

/**
 * Options of {@link runClusterPrimary}.
 *
 * @example
 * ```ts
 * const options: ClusterOptions = { workers: 4, onWorkerExit: (end) => console.error(end) };
 * ```
 */
export interface ClusterOptions {
  /** Worker processes. Default `os.availableParallelism()`. */
  workers?: number;
  /** Signals that start the shutdown (forwarded to every worker as SIGTERM; a second one forces). Default SIGTERM, SIGINT. */
  signals?: NodeJS.Signals[];
  /** Called when a worker exits (replaced or at the end). */
  onWorkerExit?: (end: WorkerEnd) => void;
}

/**
 * A running cluster primary.
 *
 * @example
 * ```ts
 * const primary = runClusterPrimary({ workers: 2 });
 * const ends = await primary.stopped;
 * ```
 */
export interface ClusterPrimary {
  /** Resolves once every worker has exited after a shutdown signal, with how each ended. */
  readonly stopped: Promise<WorkerEnd[]>;
  /** Workers that died while running and were replaced. */
  readonly replaced: number;
}

/**
 * In a worker: send the final stats to the primary (no-op outside a cluster worker). Call it from
 * `shutdownOnSignals`' `onStopped`.
 *
 * @example
 * ```ts
 * shutdownOnSignals(supervisor, { onStopped: (stats, phases) => reportToPrimary(stats, phases) });
 * ```
 */
export function reportToPrimary(stats: SupervisorStats, phases: PhaseTiming[]): void {
  if (!cluster.isWorker || process.send === undefined) return;
  process.send({ type: STATS_MESSAGE, stats, phases });
}

/**
 * Run the primary of a `node:cluster`: fork `workers` processes running the same entry (each runs
 * its own supervisor on the shared port), replace a worker that dies while running (its sessions
 * end with it: their connections close, every client sees the close), forward the first shutdown
 * signal to every worker as SIGTERM (each runs its phased shutdown) and a second one to force, and
 * resolve once all have exited, with each worker's final stats.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import { runClusterPrimary } from 'session-supervisor';
 *
 * if (cluster.isPrimary) {
 *   const ends = await runClusterPrimary({ workers: 2 }).stopped;
 *   process.exitCode = ends.every((e) => e.code === 0) ? 0 : 1;
 * } else {
 *   // start a supervisor and listenHttp(...) here, as in a single process
 * }
 * ```
 */
export function runClusterPrimary(options: ClusterOptions = {}): ClusterPrimary {
  const count = options.workers ?? availableParallelism();
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const reports = new Map<number, { stats: SupervisorStats; phases: PhaseTiming[] }>();
  const ends: WorkerEnd[] = [];
  const live = new Set<Worker>();
  let shuttingDown = 0;
  let replaced = 0;
  let resolveStopped!: (ends: WorkerEnd[]) => void;
  const stopped = new Promise<WorkerEnd[]>((resolve) => {
    resolveStopped = resolve;
  });

  const fork = (): void => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('message', (message: unknown) => {
      const m = message as { type?: unknown; stats?: SupervisorStats; phases?: PhaseTiming[] };
      if (m?.type === STATS_MESSAGE && m.stats !== undefined) reports.set(worker.id, { stats: m.stats, phases: m.phases ?? [] });
    });
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      const report = reports.get(worker.id);
      const end: WorkerEnd = {
        id: worker.id,
        pid: worker.process.pid,
        code,
        signal: signal ?? null,
        replaced: shuttingDown === 0,
        stats: report?.stats,
        phases: report?.phases ?? [],
      };
      ends.push(end);
      options.onWorkerExit?.(end);
      if (shuttingDown === 0) {
        replaced += 1;
        fork();
      } else if (live.size === 0) {
        for (const s of signals) process.off(s, onSignal);
        resolveStopped(ends);
      }
    });
  };

  const onSignal = (): void => {
    shuttingDown += 1;
    if (shuttingDown > 2) return;
    for (const worker of live) worker.process.kill('SIGTERM');
  };
  for (const s of signals) process.on(s, onSignal);
  for (let i = 0; i < count; i += 1) fork();
  return {
    stopped,
    get replaced() {
      return replaced;
    },
  };
}

/**
 * Sum the final stats of several workers (counters add up; `state` is the least advanced one).
 *
 * @example
 * ```ts
 * const total = sumStats(ends.flatMap((e) => (e.stats === undefined ? [] : [e.stats])));
 * ```
 */
export function sumStats(all: readonly SupervisorStats[]): SupervisorStats | undefined {
  const add = (a: unknown, b: unknown): unknown => {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (typeof a === 'boolean' && typeof b === 'boolean') return a && b;
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      return Object.fromEntries(Object.keys(a).map((k) => [k, add((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])]));
    }
    return a;
  };
  let total: SupervisorStats | undefined;
  for (const stats of all) total = total === undefined ? structuredClone(stats) : (add(total, stats) as SupervisorStats);
  return total;
}
