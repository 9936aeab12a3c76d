import type { SupervisorPhase } from '../../machines/supervisor.js';
import type { Clock } from './clock.js';

/**
 * One phase of a supervisor and the time spent in it (ms on the supervisor's clock; for the current
 * phase, so far).
 *
 * @example
 * ```ts
 * const timing: PhaseTiming = { phase: 'draining', ms: 1250 };
 * ```
 */
export interface PhaseTiming {
  phase: SupervisorPhase;
  ms: number;
}

/**
 * The phases a supervisor went through, in order, with when each began.
 *
 * @example
 * ```ts
 * const log = new PhaseLog(systemClock, 'running');
 * const left = log.enter('unready'); // { phase: 'running', ms: … }
 * log.timings();
 * ```
 */
export class PhaseLog {
  private readonly entries: { phase: SupervisorPhase; at: number; ms: number | undefined }[];

  constructor(
    private readonly clock: Clock,
    initial: SupervisorPhase,
  ) {
    this.entries = [{ phase: initial, at: clock.now(), ms: undefined }];
  }

  /** The phase now. */
  get current(): SupervisorPhase {
    return this.entries[this.entries.length - 1]!.phase;
  }

  /** Enter `phase`; returns the phase left with its duration (undefined when `phase` is the current one). */
  enter(phase: SupervisorPhase): PhaseTiming | undefined {
    const last = this.entries[this.entries.length - 1]!;
    if (last.phase === phase) return undefined;
    const now = this.clock.now();
    last.ms = now - last.at;
    this.entries.push({ phase, at: now, ms: phase === 'stopped' ? 0 : undefined });
    return { phase: last.phase, ms: last.ms };
  }

  /** Every phase so far with its duration (rounded to 0.1 ms). */
  timings(): PhaseTiming[] {
    const now = this.clock.now();
    return this.entries.map((e) => ({ phase: e.phase, ms: Math.round((e.ms ?? now - e.at) * 10) / 10 }));
  }
}
