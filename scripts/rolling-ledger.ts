// The ledger of a rolling restart: what every request and every instance came to.

/** What one request came to, as its client saw it. */
export type Outcome =
  | { kind: 'answered' }
  | { kind: 'refused'; how: string }
  | { kind: 'cancelled'; reason: string }
  | { kind: 'session-ended' }
  | { kind: 'lost'; detail: string };

/** How one instance ended. */
export interface InstanceExit {
  name: string;
  code: number | null;
  signal: string | null;
  ms: number;
  budgetMs: number;
}

/** A legacy client's story. */
export interface LegacyStory {
  met404: number;
  reinitialized: number;
  finished: boolean;
}

export class Ledger {
  readonly counts = { answered: 0, refused: 0, cancelled: 0, sessionEnded: 0, lost: 0 };
  readonly refusals = new Map<string, number>();
  readonly cancels = new Map<string, number>();
  readonly lost: string[] = [];
  readonly exits: InstanceExit[] = [];
  readonly legacy: LegacyStory[] = [];
  crashes = 0;
  /** Answered requests per bucket of `bucketMs`, from the start. */
  private readonly buckets: number[] = [];
  private started = performance.now();
  restartWindow: { from: number; to: number } | undefined;

  constructor(readonly bucketMs = 250) {}

  record(outcome: Outcome): void {
    switch (outcome.kind) {
      case 'answered': {
        this.counts.answered += 1;
        const bucket = Math.floor((performance.now() - this.started) / this.bucketMs);
        while (this.buckets.length <= bucket) this.buckets.push(0);
        this.buckets[bucket]! += 1;
        return;
      }
      case 'refused':
        this.counts.refused += 1;
        this.refusals.set(outcome.how, (this.refusals.get(outcome.how) ?? 0) + 1);
        return;
      case 'cancelled':
        this.counts.cancelled += 1;
        this.cancels.set(outcome.reason, (this.cancels.get(outcome.reason) ?? 0) + 1);
        return;
      case 'session-ended':
        this.counts.sessionEnded += 1;
        return;
      case 'lost':
        this.counts.lost += 1;
        if (this.lost.length < 20) this.lost.push(outcome.detail);
        return;
    }
  }

  /** Start the clock of the throughput buckets (when the clients start). */
  begin(): void {
    this.started = performance.now();
  }

  /** Milliseconds since the ledger started. */
  now(): number {
    return performance.now() - this.started;
  }

  /** Answered per second before the restarts, and the lowest bucket during them. */
  throughput(): { baselinePerSec: number; lowestPerSec: number; dipPercent: number } {
    const perSec = (n: number): number => (n * 1000) / this.bucketMs;
    const window = this.restartWindow;
    if (window === undefined) return { baselinePerSec: 0, lowestPerSec: 0, dipPercent: 0 };
    const first = Math.floor(window.from / this.bucketMs);
    const last = Math.floor(window.to / this.bucketMs);
    // Skip the first bucket (clients warming up).
    const before = this.buckets.slice(1, first).sort((a, b) => a - b);
    const baseline = before.length === 0 ? 0 : before[Math.floor(before.length / 2)]!;
    let lowest = Infinity;
    for (let i = first; i <= last && i < this.buckets.length; i += 1) lowest = Math.min(lowest, this.buckets[i]!);
    if (lowest === Infinity) lowest = 0;
    return {
      baselinePerSec: perSec(baseline),
      lowestPerSec: perSec(lowest),
      dipPercent: baseline === 0 ? 0 : Math.round((1 - lowest / baseline) * 1000) / 10,
    };
  }

  /** Every reason this run fails (empty: it passed). */
  failures(): string[] {
    const out: string[] = [];
    if (this.counts.lost > 0) out.push(`${this.counts.lost} requests lost silently (${this.lost.join('; ')})`);
    if (this.crashes > 0) out.push(`${this.crashes} process crashes`);
    for (const exit of this.exits) {
      if (exit.code !== 0) out.push(`${exit.name} exited with code ${String(exit.code)} signal ${String(exit.signal)}`);
      if (exit.ms > exit.budgetMs) out.push(`${exit.name} took ${Math.round(exit.ms)} ms, over its budget of ${exit.budgetMs} ms`);
    }
    for (const [i, story] of this.legacy.entries()) {
      if (!story.finished) out.push(`legacy client ${i} did not finish`);
      if (story.met404 > 0 && story.reinitialized < story.met404) out.push(`legacy client ${i} met 404 ${story.met404}× but re-initialized ${story.reinitialized}×`);
    }
    if (this.counts.answered === 0) out.push('no request was answered');
    return out;
  }

  render(): string {
    const t = this.throughput();
    const lines = [
      'rolling restart ledger',
      `  answered              ${this.counts.answered}`,
      `  refused (before admission) ${this.counts.refused}  ${JSON.stringify(Object.fromEntries(this.refusals))}`,
      `  cancelled with a reason    ${this.counts.cancelled}  ${JSON.stringify(Object.fromEntries(this.cancels))}`,
      `  legacy session ended (404) ${this.counts.sessionEnded}`,
      `  lost silently         ${this.counts.lost}`,
      `  process crashes       ${this.crashes}`,
      `  legacy clients        ${this.legacy.length}, met 404: ${this.legacy.filter((s) => s.met404 > 0).length}, re-initialized: ${this.legacy.reduce((n, s) => n + s.reinitialized, 0)}, finished: ${this.legacy.filter((s) => s.finished).length}`,
      ...this.exits.map((e) => `  ${e.name.padEnd(20)} exit ${String(e.code)} in ${Math.round(e.ms)} ms (budget ${e.budgetMs} ms)`),
      `  throughput            ${t.baselinePerSec} answered/s before, lowest ${t.lowestPerSec}/s during the restarts (dip ${t.dipPercent} %)`,
    ];
    const failures = this.failures();
    lines.push(failures.length === 0 ? 'PASS' : `FAIL\n  - ${failures.join('\n  - ')}`);
    return lines.join('\n');
  }
}
