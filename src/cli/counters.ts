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
  cancelled: { client: number; 'transport-closed': number; 'drain-timeout': number; 'request-timeout': number; shutdown: number };
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
  const c = stats.cancelled;
  return {
    sessions: stats.sessions.total,
    requests: stats.requests,
    completed: stats.completed,
    failed: stats.failed,
    cancelled: {
      client: c.client,
      'transport-closed': c['transport-closed'],
      'drain-timeout': c['drain-timeout'],
      'request-timeout': c['request-timeout'],
      shutdown: c.shutdown,
    },
    abandoned: stats.abandoned,
    blockedSends: stats.blockedSends,
  };
}
