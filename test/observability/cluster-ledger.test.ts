// The cluster primary's metrics ledger over real prom-client registries: live snapshots summed,
// a retired worker's counters and histograms kept, its gauges dropped.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterMetricsLedger } from '../../src/observability/cluster-ledger.js';

function worker(requests: number, open: number, latency: number[]): Registry {
  const registry = new Registry();
  new Counter({ name: 'requests_total', help: 'r', registers: [registry] }).inc(requests);
  new Gauge({ name: 'sessions_open', help: 's', registers: [registry] }).set(open);
  const histogram = new Histogram({ name: 'latency_seconds', help: 'l', buckets: [0.1, 1], registers: [registry] });
  for (const value of latency) histogram.observe(value);
  return registry;
}

const sample = (text: string, name: string): number | undefined => {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
};

describe('ClusterMetricsLedger', () => {
  it('sums live workers, keeps retired counters and histograms, drops retired gauges', async () => {
    const ledger = new ClusterMetricsLedger();
    ledger.record(1, await worker(5, 2, [0.05]).getMetricsAsJSON());
    ledger.record(2, await worker(3, 1, [0.5, 0.5]).getMetricsAsJSON());
    let text = await ledger.exposition();
    expect([sample(text, 'requests_total'), sample(text, 'sessions_open'), sample(text, 'latency_seconds_count')]).toEqual([8, 3, 3]);

    ledger.retire(1);
    ledger.record(3, await worker(1, 4, []).getMetricsAsJSON());
    text = await ledger.exposition();
    expect([sample(text, 'requests_total'), sample(text, 'sessions_open'), sample(text, 'latency_seconds_count')]).toEqual([9, 5, 3]);
    expect(sample(text, 'latency_seconds_bucket{le="0.1"}')).toBe(1);

    // A second death folds into the same retired total; a worker never seen changes nothing.
    ledger.retire(2);
    ledger.retire(42);
    text = await ledger.exposition();
    expect([sample(text, 'requests_total'), sample(text, 'sessions_open'), sample(text, 'latency_seconds_count')]).toEqual([9, 4, 3]);
  });

  it('exposes an empty registry before any worker answered', async () => {
    expect(await new ClusterMetricsLedger().exposition()).toBe('\n');
  });
});
