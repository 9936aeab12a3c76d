import { AggregatorRegistry, type Registry } from 'prom-client';

/** What one worker's registry reported: `registry.getMetricsAsJSON()`. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/**
 * Kept after a worker is gone: the series that only ever grow. A dead worker's gauges (open
 * sessions, heap) describe nothing any more, and a summary's quantiles cannot be summed.
 */
const MONOTONIC: ReadonlySet<string> = new Set(['counter', 'histogram']);

/**
 * The cluster primary's view of its workers' metrics, so that its aggregated counters never go
 * down when a worker dies.
 *
 * prom-client's `AggregatorRegistry` sums what the live workers answer: when one is killed and
 * replaced, its counts vanish from the sum, and Prometheus reads the drop as a counter reset (a
 * `rate()` spike of the whole remaining value). The ledger keeps each live worker's latest
 * snapshot (taken at every scrape) and, once a worker exits, folds its last counters and
 * histograms into a retired total that every later exposition adds. What a killed worker counted
 * after the last scrape before its death is lost with it (it cannot report any more); a worker that
 * misses a scrape's deadline is counted with its previous snapshot.
 *
 * @example
 * ```ts
 * const ledger = new ClusterMetricsLedger();
 * ledger.record(worker.id, await askForMetrics(worker));
 * worker.once('exit', () => ledger.retire(worker.id));
 * const text = await ledger.exposition();
 * ```
 */
export class ClusterMetricsLedger {
  private readonly latest = new Map<number, MetricsSnapshot>();
  private retired: MetricsSnapshot = [];
  /** Folding into `retired` is asynchronous (prom-client's JSON export is); expositions wait for it. */
  private folding: Promise<void> = Promise.resolve();

  /** A live worker's latest metrics. */
  record(workerId: number, snapshot: MetricsSnapshot): void {
    this.latest.set(workerId, snapshot);
  }

  /** The worker exited: its last counters and histograms stay in every later exposition. */
  retire(workerId: number): void {
    const last = this.latest.get(workerId);
    this.latest.delete(workerId);
    if (last === undefined) return;
    const kept = last.filter((metric) => MONOTONIC.has(String(metric.type)));
    this.folding = this.folding.then(async () => {
      this.retired = this.retired.length === 0 ? kept : await AggregatorRegistry.aggregate([this.retired, kept]).getMetricsAsJSON();
    });
  }

  /** The Prometheus exposition: the live workers' latest metrics and the retired total, aggregated. */
  async exposition(): Promise<string> {
    await this.folding;
    const all: MetricsSnapshot[] = [...this.latest.values()];
    if (this.retired.length > 0) all.push(this.retired);
    return AggregatorRegistry.aggregate(all).metrics();
  }
}
