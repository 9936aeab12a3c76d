/**
 * `http-paired`: supervised-http against raw-http in interleaved windows, for the ratio figure.
 *
 * The machines these benchmarks run on are shared: the speed of the same server swings by 2× from
 * one ten-second stretch to the next (raw-http alone measured 40–78 µs of CPU per request on
 * one idle-looking machine within five minutes). Rows measured one after the other, each on a fresh
 * server, then compare two different stretches of the machine. Here both servers start once, are
 * warmed once, and are then measured in short windows back to back, alternating which one goes
 * first (raw, ours; ours, raw; …), so each pair sees the same stretch of the machine. On Linux
 * both servers are pinned to one CPU and the load to the other (`taskset`, see lib/affinity.ts):
 * unpinned, a server's CPU per request swings by 2× as the scheduler moves it. The figure is the
 * median of the per-pair ratios; every window is in the report.
 */
import { pinForLoad, type Pinning } from '../lib/affinity.js';
import { startFixture, type Fixture } from '../lib/child.js';
import { runHttpLoad } from '../lib/http-load.js';
import type { HttpLoadKind } from '../lib/messages.js';
import { round, type LoadResult } from '../lib/stats.js';

/** One pair of windows: the baseline and the candidate, measured back to back. */
export interface HttpPairedWindow {
  baseline: LoadResult;
  candidate: LoadResult;
  /** candidate / baseline req/s. */
  ratio: number;
  /** baseline / candidate server CPU per request (higher is better for the candidate, like `ratio`). */
  cpuRatio: number | null;
}

/** The paired comparison: every pair, and the medians the figure uses. */
export interface HttpPairedResult {
  baseline: string;
  candidate: string;
  connections: number;
  warmupMs: number;
  measureMs: number;
  pairs: HttpPairedWindow[];
  /** Median over the pairs of candidate / baseline req/s. */
  ratio: number;
  /** Median over the pairs of baseline / candidate CPU per request. */
  cpuRatio: number | null;
  /** Errors in all windows together (wrong bodies, non-2xx, timeouts): a figure with errors is not met. */
  errors: number;
  /** Whether the servers and the load were pinned to separate CPUs. */
  pinned: boolean;
}

/** What {@link runHttpPaired} compares, and how long it measures. */
export interface HttpPairedOptions {
  baseline: { name: string; file: string };
  candidate: { name: string; file: string };
  kind: HttpLoadKind;
  connections: number;
  pairs: number;
  /** Warm-up of each server once, before the first pair. */
  initialWarmupMs: number;
  /** Warm-up (new connections) and measured window of every single window. */
  warmupMs: number;
  measureMs: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * Start both servers, warm each, then measure `pairs` pairs of windows, alternating the order in
 * every pair. Bounded: `pairs × 2` windows of `warmupMs + measureMs` each (plus the first answer's
 * wait of {@link runHttpLoad}), and both servers are stopped at the end, also on failure.
 */
export async function runHttpPaired(options: HttpPairedOptions, log: (line: string) => void = () => {}): Promise<HttpPairedResult> {
  const { connections, kind } = options;
  const fixtures: Fixture[] = [];
  let pinning: Pinning | undefined;
  try {
    const baseline = await startFixture(options.baseline.file);
    fixtures.push(baseline);
    const candidate = await startFixture(options.candidate.file);
    fixtures.push(candidate);
    pinning = pinForLoad(fixtures.map((fixture) => fixture.child.pid).filter((pid): pid is number => pid !== undefined));
    const window = (name: string, fixture: Fixture, warmupMs: number, measureMs: number): Promise<LoadResult> =>
      runHttpLoad({
        name,
        url: `http://127.0.0.1:${fixture.ready.port as number}/mcp`,
        kind,
        connections,
        warmupMs,
        measureMs,
        ...(fixture.child.pid === undefined ? {} : { serverPid: fixture.child.pid }),
      });
    await window(options.baseline.name, baseline, options.initialWarmupMs, 200);
    await window(options.candidate.name, candidate, options.initialWarmupMs, 200);
    const pairs: HttpPairedWindow[] = [];
    for (let i = 0; i < options.pairs; i += 1) {
      log(`bench: http-paired (pair ${i + 1}/${options.pairs})`);
      let base: LoadResult;
      let cand: LoadResult;
      if (i % 2 === 0) {
        base = await window(options.baseline.name, baseline, options.warmupMs, options.measureMs);
        cand = await window(options.candidate.name, candidate, options.warmupMs, options.measureMs);
      } else {
        cand = await window(options.candidate.name, candidate, options.warmupMs, options.measureMs);
        base = await window(options.baseline.name, baseline, options.warmupMs, options.measureMs);
      }
      const cpuRatio = base.cpuUsPerOp === undefined || cand.cpuUsPerOp === undefined || cand.cpuUsPerOp === 0 ? null : round(base.cpuUsPerOp / cand.cpuUsPerOp, 3);
      pairs.push({ baseline: base, candidate: cand, ratio: base.opsPerSec === 0 ? 0 : round(cand.opsPerSec / base.opsPerSec, 3), cpuRatio });
    }
    const cpuRatios = pairs.map((pair) => pair.cpuRatio).filter((value): value is number => value !== null);
    return {
      baseline: options.baseline.name,
      candidate: options.candidate.name,
      connections,
      warmupMs: options.warmupMs,
      measureMs: options.measureMs,
      pairs,
      ratio: round(median(pairs.map((pair) => pair.ratio)), 3),
      cpuRatio: cpuRatios.length === 0 ? null : round(median(cpuRatios), 3),
      errors: pairs.reduce((sum, pair) => sum + pair.baseline.errors + pair.candidate.errors, 0),
      pinned: pinning.pinned,
    };
  } finally {
    pinning?.restore();
    for (const fixture of fixtures.reverse()) await fixture.stop();
  }
}
