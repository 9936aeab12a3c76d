import { SUPERVISOR_PHASES } from '../../machines/supervisor.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CANCEL_REASONS } from '../../machines/reasons.js';
import type { SupervisorStats } from '../supervisor.js';

/** How {@link registerStatsFamilies} names and labels the families. */
export interface FamilyOptions {
  prefix: string;
  /** Labels on every sample of ours. */
  labels: Record<string, string>;
  /** Latency buckets (sorted, validated); left out: no histogram. */
  buckets?: number[];
}

/** The families registered for one supervisor. */
export interface StatsFamilies {
  /** Record one answered request's duration, in seconds (no-op without a histogram). */
  observe(seconds: number): void;
  /** Remove every family from the registry. */
  remove(): void;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One sample of a family: its own labels (besides the common ones) and its value. */
export type Sample = readonly [own: Readonly<Record<string, string>>, value: number];

/** One metric family read from a stats snapshot of type `S` at scrape time. */
export interface FamilySpec<S> {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  own?: readonly string[];
  /** How a cluster aggregator combines the workers' values (prom-client's `aggregator`). Default sum. */
  aggregator?: 'min' | 'max';
  samples(stats: S): readonly Sample[];
}

/** The one sample of a family without labels of its own. */
export const one = (value: number): readonly Sample[] => [[{}, value]];

/** Today's families: names, types, help and labels unchanged from the hand-written exposition. */
const FAMILIES: readonly FamilySpec<SupervisorStats>[] = [
  { name: 'healthy', type: 'gauge', aggregator: 'min', help: '1 while the supervisor is healthy (session failures within the window at most maxSessionFailures).', samples: (s) => one(s.healthy ? 1 : 0) },
  { name: 'state', type: 'gauge', own: ['state'], help: 'The supervisor state: 1 for the current one.', samples: (s) => SUPERVISOR_PHASES.map((state) => [{ state }, s.state === state ? 1 : 0]) },
  {
    name: 'sessions',
    type: 'gauge',
    own: ['state'],
    help: 'Open sessions by connection state.',
    samples: (s) => [
      [{ state: 'connected' }, s.sessions.connected],
      [{ state: 'draining' }, s.sessions.draining],
      [{ state: 'closing' }, s.sessions.closing],
    ],
  },
  { name: 'sessions_opened_total', type: 'counter', help: 'Sessions attached since the start.', samples: (s) => one(s.sessions.total) },
  { name: 'in_flight', type: 'gauge', help: 'Handlers running now (not cancelled).', samples: (s) => one(s.inFlight) },
  { name: 'cancelling', type: 'gauge', help: 'Handlers cancelled but not yet settled or abandoned.', samples: (s) => one(s.cancelling) },
  { name: 'requests_total', type: 'counter', help: 'Requests that started a handler.', samples: (s) => one(s.requests) },
  { name: 'requests_completed_total', type: 'counter', help: 'Requests answered with a result.', samples: (s) => one(s.completed) },
  { name: 'requests_failed_total', type: 'counter', help: 'Requests whose handler threw or rejected (answered with an error).', samples: (s) => one(s.failed) },
  { name: 'requests_refused_total', type: 'counter', help: 'Requests refused before a handler ran (draining, overloaded, unknown method, bad params).', samples: (s) => one(s.refused) },
  { name: 'cancellations_total', type: 'counter', own: ['reason'], help: 'Handlers cancelled, by reason.', samples: (s) => CANCEL_REASONS.map((reason) => [{ reason }, s.cancelled[reason]]) },
  { name: 'abandoned_handlers_total', type: 'counter', help: 'Cancelled handlers that ignored their signal for longer than cancelGraceMs.', samples: (s) => one(s.abandoned) },
  { name: 'late_answers_total', type: 'counter', help: 'Answers from handlers already cancelled (dropped).', samples: (s) => one(s.lateAnswers) },
  { name: 'blocked_sends_total', type: 'counter', help: 'Frames the send guard blocked because the session could no longer send.', samples: (s) => one(s.blockedSends) },
  { name: 'session_failures_total', type: 'counter', help: 'Sessions whose own machinery failed (each closed alone).', samples: (s) => one(s.sessionFailures) },
  { name: 'session_failures_in_window', type: 'gauge', help: 'Session failures within failureWindowMs.', samples: (s) => one(s.failuresInWindow) },
];

/**
 * Register `specs` in `registry`, named `prefix` + the spec's name. Gauges and counters read
 * `stats()` when the registry is scraped (one `stats()` call per scrape, shared by every family);
 * a counter is set to the source's own lifetime count (reset, then increased by it), so it stays
 * monotonic. Throws `RangeError` for a bad label name, before registering anything. Returns the
 * registered names (to remove them).
 */
export function registerFamilies<S>(registry: Registry, specs: readonly FamilySpec<S>[], stats: () => S, options: Pick<FamilyOptions, 'prefix' | 'labels'>): string[] {
  const common = options.labels;
  const commonNames = Object.keys(common);
  for (const name of commonNames) if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new RangeError(`invalid label name: ${name}`);

  // One snapshot per scrape: the collect callbacks of one scrape run within the same turn.
  let snapshot: { value: S } | undefined;
  const current = (): S => {
    if (snapshot === undefined) {
      snapshot = { value: stats() };
      setImmediate(() => {
        snapshot = undefined;
      });
    }
    return snapshot.value;
  };

  const names: string[] = [];
  for (const spec of specs) {
    const name = `${options.prefix}${spec.name}`;
    const labelNames = [...commonNames, ...(spec.own ?? [])];
    const base = { name, help: spec.help, labelNames, registers: [registry], ...(spec.aggregator === undefined ? {} : { aggregator: spec.aggregator }) };
    if (spec.type === 'gauge') {
      new Gauge({
        ...base,
        collect() {
          for (const [own, value] of spec.samples(current())) this.set({ ...common, ...own }, value);
        },
      });
    } else {
      new Counter({
        ...base,
        collect() {
          this.reset();
          for (const [own, value] of spec.samples(current())) this.inc({ ...common, ...own }, value);
        },
      });
    }
    names.push(name);
  }
  return names;
}

/**
 * Register the supervisor's families in `registry` (see {@link registerFamilies}), and the request
 * latency histogram when `options.buckets` is given.
 */
export function registerStatsFamilies(registry: Registry, stats: () => SupervisorStats, options: FamilyOptions): StatsFamilies {
  const common = options.labels;
  const commonNames = Object.keys(common);
  const names = registerFamilies(registry, FAMILIES, stats, options);

  let histogram: Histogram | undefined;
  if (options.buckets !== undefined) {
    const name = `${options.prefix}request_duration_seconds`;
    histogram = new Histogram({ name, help: 'Time from request to answer (result or error), in seconds.', labelNames: commonNames, buckets: options.buckets, registers: [registry] });
    names.push(name);
    // Every label set appears from the start (count 0), as the hand-written exposition did.
    histogram.zero(common);
  }
  return {
    observe(seconds) {
      histogram?.observe(common, seconds);
    },
    remove() {
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
