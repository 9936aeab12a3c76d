import type { PhaseTiming } from '../runtime/phase-log.js';
import type { HttpStats } from '../transports/http/stats.js';
import type { Supervisor, SupervisorStats } from '../supervisor.js';
import type { ServeOptions } from './args.js';
import { lifetimeCounters, type LifetimeCounters } from './counters.js';
import type { CliLogger } from './logger.js';

/**
 * The last stderr line of `serve`: the lifetime counters, the Streamable HTTP listener's counters
 * (modern exchanges, legacy sessions, refusals by status; absent with `--stdio`) and the shutdown
 * phases with their durations (ms), in order.
 *
 * @example
 * ```ts
 * const line: ShutdownSummary = shutdownSummary(supervisor.stats(), supervisor.phases());
 * line.phases; // [{ phase: 'running', ms: 5123.4 }, { phase: 'unready', ms: 5000.2 }, …]
 * ```
 */
export interface ShutdownSummary extends LifetimeCounters {
  /** The HTTP listener's counters when `serve` listened for HTTP (see `HttpStats`). */
  http?: HttpStats;
  phases: PhaseTiming[];
}

/**
 * Build the summary line.
 *
 * @example
 * ```ts
 * process.stderr.write(`${JSON.stringify(shutdownSummary(supervisor.stats(), supervisor.phases()))}\n`);
 * ```
 */
export function shutdownSummary(stats: SupervisorStats, phases: PhaseTiming[], http?: HttpStats): ShutdownSummary {
  return { ...lifetimeCounters(stats), ...(http === undefined ? {} : { http }), phases };
}

/**
 * Log every phase change with the duration of the phase left (`info`).
 *
 * @example
 * ```ts
 * logPhases(supervisor, logger);
 * ```
 */
export function logPhases(supervisor: Supervisor, logger: CliLogger): void {
  supervisor.on('supervisor.phase', (e) => logger.info({ phase: e.to, previous: e.from, previousMs: Math.round(e.ms) }, `phase ${e.to}`));
}

/**
 * The listener options of `serve` for the probes (`--health-path`, `--ready-path`).
 *
 * @example
 * ```ts
 * listenHttp(supervisor, { ...probeOptions(options) });
 * ```
 */
export function probeOptions(options: Pick<ServeOptions, 'healthPath' | 'readyPath'>): { healthPath: string; readyPath: string } {
  return { healthPath: options.healthPath, readyPath: options.readyPath };
}
