import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { PhaseTiming } from './runtime/phase-log.js';
import type { SupervisorStats } from './supervisor.js';

/** The IPC message a worker sends its primary with its final stats. */
const STATS_MESSAGE = 'session-supervisor.stats';
/** The primary asks every worker for its live stats; each answers with STATS_RESPONSE. */
const STATS_REQUEST = 'session-supervisor.stats-request';
const STATS_RESPONSE = 'session-supervisor.stats-response';
/** How long the primary waits for the workers' live stats. */
const STATS_TIMEOUT_MS = 2_000;

/**
 * One worker's end, as the primary saw it.
 *
 * @example
 * ```ts
 * const end: WorkerEnd = { id: 1, pid: 4242, code: 0, signal: null, replaced: false, stats: undefined, phases: [], extra: undefined };
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
  /** What else the worker reported with its stats (the CLI: its HTTP listener's counters). */
  extra: Record<string, unknown> | undefined;
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
  /** Called when a shutdown signal arrives (`count` 1: the graceful stop starts; 2: forced), after it was forwarded. */
  onSignal?: (signal: NodeJS.Signals, count: number) => void;
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
  /** Workers alive now. */
  readonly workers: number;
  /** `true` while no shutdown signal came and at least one worker is listening: the primary's readiness. */
  readonly ready: boolean;
  /** `true` until every worker has exited after a shutdown. */
  readonly accepting: boolean;
  /**
   * The live stats of every worker, summed (workers answer once {@link attachClusterWorker} runs in
   * them; one that does not answer within 2 s is left out and counted in `missing`).
   */
  stats(): Promise<ClusterStats>;
  /**
   * The Prometheus exposition of every worker's registry, aggregated by prom-client's
   * `AggregatorRegistry` (counters and histograms summed; gauges per their `aggregator`).
   */
  metrics(): Promise<string>;
}

/**
 * The live stats of a cluster, summed over the workers that answered.
 *
 * @example
 * ```ts
 * const { total, answered } = await primary.stats();
 * console.log(`${answered} workers, ${total?.inFlight ?? 0} requests in flight`);
 * ```
 */
export interface ClusterStats {
  /** The sum (see {@link sumStats}); `undefined` when no worker answered. */
  total: SupervisorStats | undefined;
  /** Workers asked, and those that answered in time. */
  workers: number;
  answered: number;
  missing: number;
  /** Workers replaced so far (their counters died with them). */
  replaced: number;
}

/**
 * Options of {@link attachClusterWorker}.
 *
 * @example
 * ```ts
 * const options: ClusterWorkerOptions = { registry: supervisorMetrics(supervisor).registry };
 * ```
 */
export interface ClusterWorkerOptions {
  /** The prom-client registry this worker contributes to the primary's aggregated `/metrics`. */
  registry?: Registry;
}

/**
 * In a worker: send the final stats to the primary (no-op outside a cluster worker), with `extra`
 * (JSON-serialisable) that lands in {@link WorkerEnd.extra}. Call it from `shutdownOnSignals`' `onStopped`.
 *
 * @example
 * ```ts
 * shutdownOnSignals(supervisor, { onStopped: (stats, phases) => reportToPrimary(stats, phases) });
 * ```
 */
export function reportToPrimary(stats: SupervisorStats, phases: PhaseTiming[], extra?: Record<string, unknown>): void {
  if (!cluster.isWorker || process.send === undefined) return;
  process.send({ type: STATS_MESSAGE, stats, phases, extra });
}

/**
 * In a cluster worker: answer the primary's requests for live stats ({@link ClusterPrimary.stats})
 * and, with `registry`, contribute that registry to its aggregated metrics (prom-client's
 * `AggregatorRegistry.setRegistries`). A no-op outside a cluster worker. Returns a function that
 * stops answering stats.
 *
 * @example
 * ```ts
 * import { attachClusterWorker, supervisorMetrics } from 'session-supervisor';
 *
 * const metrics = supervisorMetrics(supervisor, { defaultMetrics: true });
 * attachClusterWorker(supervisor, { registry: metrics.registry });
 * ```
 */
export function attachClusterWorker(supervisor: { stats(): SupervisorStats }, options: ClusterWorkerOptions = {}): () => void {
  if (!cluster.isWorker) return () => {};
  if (options.registry !== undefined) {
    AggregatorRegistry.setRegistries([options.registry]);
    // Constructing one installs prom-client's worker-side listener for the primary's requests.
    void new AggregatorRegistry();
  }
  const onMessage = (message: unknown): void => {
    const m = message as { type?: unknown; requestId?: unknown };
    if (m?.type !== STATS_REQUEST || process.send === undefined) return;
    process.send({ type: STATS_RESPONSE, requestId: m.requestId, stats: supervisor.stats() });
  };
  process.on('message', onMessage);
  return () => {
    process.off('message', onMessage);
  };
}

/** Ask every live worker for its stats and sum what arrives within the timeout. */
function collectStats(live: ReadonlySet<Worker>, requestId: number, replaced: number): Promise<ClusterStats> {
  const asked = [...live].filter((w) => w.isConnected());
  const answers = new Map<number, SupervisorStats>();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      for (const worker of asked) worker.off('message', onMessage);
      const total = sumStats([...answers.values()]);
      resolve({ total, workers: asked.length, answered: answers.size, missing: asked.length - answers.size, replaced });
    };
    const onMessage = function (this: Worker, message: unknown): void {
      const m = message as { type?: unknown; requestId?: unknown; stats?: SupervisorStats };
      if (m?.type !== STATS_RESPONSE || m.requestId !== requestId || m.stats === undefined) return;
      answers.set(this.id, m.stats);
      if (answers.size === asked.length) finish();
    };
    const timer = setTimeout(finish, STATS_TIMEOUT_MS);
    for (const worker of asked) {
      worker.on('message', onMessage);
      // A worker that exits meanwhile just does not answer (counted in `missing`).
      worker.send({ type: STATS_REQUEST, requestId }, undefined, () => {});
    }
    if (asked.length === 0) finish();
  });
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
  const reports = new Map<number, { stats: SupervisorStats; phases: PhaseTiming[]; extra: Record<string, unknown> | undefined }>();
  const ends: WorkerEnd[] = [];
  const live = new Set<Worker>();
  const listening = new Set<Worker>();
  const aggregator = new AggregatorRegistry();
  let statsRequests = 0;
  let shuttingDown = 0;
  let replaced = 0;
  let resolveStopped!: (ends: WorkerEnd[]) => void;
  const stopped = new Promise<WorkerEnd[]>((resolve) => {
    resolveStopped = resolve;
  });

  const fork = (): void => {
    const worker = cluster.fork();
    live.add(worker);
    worker.once('listening', () => listening.add(worker));
    worker.on('message', (message: unknown) => {
      const m = message as { type?: unknown; stats?: SupervisorStats; phases?: PhaseTiming[]; extra?: Record<string, unknown> };
      if (m?.type === STATS_MESSAGE && m.stats !== undefined) reports.set(worker.id, { stats: m.stats, phases: m.phases ?? [], extra: m.extra });
    });
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      listening.delete(worker);
      const report = reports.get(worker.id);
      const end: WorkerEnd = {
        id: worker.id,
        pid: worker.process.pid,
        code,
        signal: signal ?? null,
        replaced: shuttingDown === 0,
        stats: report?.stats,
        phases: report?.phases ?? [],
        extra: report?.extra,
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

  const onSignal = (signal: NodeJS.Signals): void => {
    shuttingDown += 1;
    if (shuttingDown > 2) return;
    for (const worker of live) worker.process.kill('SIGTERM');
    options.onSignal?.(signal, shuttingDown);
  };
  for (const s of signals) process.on(s, onSignal);
  for (let i = 0; i < count; i += 1) fork();
  return {
    stopped,
    get replaced() {
      return replaced;
    },
    get workers() {
      return live.size;
    },
    get ready() {
      return shuttingDown === 0 && listening.size > 0;
    },
    get accepting() {
      return live.size > 0;
    },
    stats: () => collectStats(live, (statsRequests += 1), replaced),
    metrics: () => aggregator.clusterMetrics(),
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
