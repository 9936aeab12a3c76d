import type { Supervisor, SupervisorStats } from '../supervisor.js';
import type { CliLogger } from './logger.js';

/**
 * Options of {@link reportDrainProgress}.
 *
 * @example
 * ```ts
 * reportDrainProgress(supervisor, logger, { signals: ['SIGTERM', 'SIGINT'], everyMs: 1000 });
 * ```
 */
export interface DrainProgressOptions {
  signals: readonly NodeJS.Signals[];
  /** How often the countdown line is written while the drain runs. Default 1000 ms. */
  everyMs?: number;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const openSessions = (stats: SupervisorStats): number => stats.sessions.connected + stats.sessions.draining + stats.sessions.closing;

/**
 * Tell the operator what a shutdown waits for: at the first signal, one line
 * `draining N sessions, M requests in flight (Ctrl-C again to force)` (at `info`), then every
 * `everyMs` a countdown of what is left and of the time to the drain deadline, until the
 * supervisor stops or a second signal forces the exit. Register it before `shutdownOnSignals`
 * so the first line counts what was there when the signal came. Returns `stop()`.
 *
 * @example
 * ```ts
 * const progress = reportDrainProgress(supervisor, logger, { signals: ['SIGTERM', 'SIGINT'] });
 * shutdownOnSignals(supervisor, { onStopped: () => progress.stop() });
 * ```
 */
export function reportDrainProgress(supervisor: Pick<Supervisor, 'stats' | 'on' | 'limits'>, logger: CliLogger, options: DrainProgressOptions): { stop(): void } {
  const everyMs = options.everyMs ?? 1000;
  let signalled = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    for (const signal of options.signals) process.off(signal, onSignal);
    offStopped();
  };
  const offStopped = supervisor.on('supervisor.stopped', stop);
  function onSignal(): void {
    signalled += 1;
    if (signalled > 1) {
      stop();
      return;
    }
    const stats = supervisor.stats();
    logger.info(
      { sessions: openSessions(stats), inFlight: stats.inFlight },
      `draining ${count(openSessions(stats), 'session')}, ${count(stats.inFlight, 'request')} in flight (Ctrl-C again to force)`,
    );
    const deadline = Date.now() + supervisor.limits.drainTimeoutMs + supervisor.limits.cancelGraceMs;
    timer = setInterval(() => {
      const now = supervisor.stats();
      const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      const requests = now.inFlight + now.cancelling;
      logger.info(
        { sessions: openSessions(now), inFlight: now.inFlight, cancelling: now.cancelling, deadlineInS: left },
        `drain: ${count(openSessions(now), 'session')}, ${count(requests, 'request')} left, deadline in ${left}s`,
      );
    }, everyMs);
    timer.unref();
  }
  for (const signal of options.signals) process.on(signal, onSignal);
  return { stop };
}
