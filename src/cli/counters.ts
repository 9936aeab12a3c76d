import type { CancelReason } from '../../machines/reasons.js';
import type { SupervisorStats } from '../supervisor.js';

/**
 * The lifetime counters the CLI prints as its last stderr line when it stops.
 *
 * @example
 * ```ts
 * const line: LifetimeCounters = lifetimeCounters(supervisor.stats());
 * ```
 */
export interface LifetimeCounters {
  sessions: number;
  requests: number;
  completed: number;
  failed: number;
  /** Cancelled handlers by reason: every reason, `session-failed` included, zero when none. */
  cancelled: Record<CancelReason, number>;
  abandoned: number;
  blockedSends: number;
}

/**
 * Pick the lifetime counters out of a supervisor's stats.
 *
 * @example
 * ```ts
 * process.stderr.write(`${JSON.stringify(lifetimeCounters(supervisor.stats()))}\n`);
 * ```
 */
export function lifetimeCounters(stats: SupervisorStats): LifetimeCounters {
  return {
    sessions: stats.sessions.total,
    requests: stats.requests,
    completed: stats.completed,
    failed: stats.failed,
    cancelled: { ...stats.cancelled },
    abandoned: stats.abandoned,
    blockedSends: stats.blockedSends,
  };
}
