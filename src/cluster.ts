import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Registry } from 'prom-client';
import { ClusterMetricsLedger, type MetricsSnapshot } from './observability/cluster-ledger.js';
import type { PhaseTiming } from './runtime/phase-log.js';
import type { SupervisorStats } from './supervisor.js';

/** The IPC message a worker sends its primary with its final stats. */
const STATS_MESSAGE = 'session-supervisor.stats';
/** The primary asks every worker for its live stats; each answers with STATS_RESPONSE. */
const STATS_REQUEST = 'session-supervisor.stats-request';
const STATS_RESPONSE = 'session-supervisor.stats-response';
/** The primary asks every worker for its registry's metrics; each answers with METRICS_RESPONSE. */
const METRICS_REQUEST = 'session-supervisor.metrics-request';
const METRICS_RESPONSE = 'session-supervisor.metrics-response';
/** How long the primary waits for the workers' live stats or metrics. */
const ASK_TIMEOUT_MS = 2_000;

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
   * `AggregatorRegistry.aggregate` (counters and histograms summed; gauges per their `aggregator`).
   * Counters never go down when a worker dies: its last scraped counters and histograms stay in
   * the sum (see {@link ClusterMetricsLedger}). A worker that does not answer within 2 s is counted
   * with its previous answer.
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
  /** Workers replaced so far (their live stats died with them; `metrics()` keeps their counters). */
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
 * and for metrics ({@link ClusterPrimary.metrics}): `registry.getMetricsAsJSON()` with `registry`,
 * no series without. A no-op outside a cluster worker. Returns a function that stops answering.
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
  const { registry } = options;
  const answer = (message: Record<string, unknown>): void => {
    // The primary may be gone (the worker outlives it for a moment): nothing to answer to.
    if (process.connected && process.send !== undefined) process.send(message, undefined, {}, () => {});
  };
  const onMessage = (message: unknown): void => {
    const m = message as { type?: unknown; requestId?: unknown };
    if (m?.type === STATS_REQUEST) answer({ type: STATS_RESPONSE, requestId: m.requestId, value: supervisor.stats() });
    if (m?.type === METRICS_REQUEST) {
      void (registry === undefined ? Promise.resolve([]) : registry.getMetricsAsJSON()).then(
        (value) => answer({ type: METRICS_RESPONSE, requestId: m.requestId, value }),
        () => {}, // a collect callback that throws: this worker misses the scrape, its last answer stands
      );
    }
  };
  process.on('message', onMessage);
  return () => {
    process.off('message', onMessage);
  };
}

/**
 * Ask every live worker one question over IPC (`type` with a fresh `requestId`) and collect the
 * answers (`value`) that arrive within the timeout, by worker id. A worker that exits meanwhile,
 * or never attached, just does not answer.
 */
function askWorkers<T>(live: ReadonlySet<Worker>, question: { type: string; answer: string; requestId: number }): Promise<{ asked: number; answers: Map<number, T> }> {
  const asked = [...live].filter((w) => w.isConnected());
  const answers = new Map<number, T>();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      for (const worker of asked) worker.off('message', onMessage);
      resolve({ asked: asked.length, answers });
    };
    const onMessage = function (this: Worker, message: unknown): void {
      const m = message as { type?: unknown; requestId?: unknown; value?: T };
      if (m?.type !== question.answer || m.requestId !== question.requestId || m.value === undefined) return;
      answers.set(this.id, m.value);
      if (answers.size === asked.length) finish();
    };
    const timer = setTimeout(finish, ASK_TIMEOUT_MS);
    for (const worker of asked) {
      worker.on('message', onMessage);
      worker.send({ type: question.type, requestId: question.requestId }, undefined, () => {});
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
  const ledger = new ClusterMetricsLedger();
  let requests = 0;
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
      ledger.retire(worker.id);
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
    stats: async () => {
      const { asked, answers } = await askWorkers<SupervisorStats>(live, { type: STATS_REQUEST, answer: STATS_RESPONSE, requestId: (requests += 1) });
      return { total: sumStats([...answers.values()]), workers: asked, answered: answers.size, missing: asked - answers.size, replaced };
    },
    metrics: async () => {
      const { answers } = await askWorkers<MetricsSnapshot>(live, { type: METRICS_REQUEST, answer: METRICS_RESPONSE, requestId: (requests += 1) });
      // A worker that answered and then exited was retired meanwhile: its answer is not recorded again.
      const liveIds = new Set([...live].map((worker) => worker.id));
      for (const [id, snapshot] of answers) if (liveIds.has(id)) ledger.record(id, snapshot);
      return ledger.exposition();
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
