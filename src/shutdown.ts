import cluster from 'node:cluster';
import type { PhaseTiming } from './runtime/phase-log.js';
import type { Supervisor, SupervisorStats } from './supervisor.js';

/**
 * Something that accepts connections (a WebSocket or HTTP listener) and takes part in a shutdown:
 * it stops accepting first (new upgrades get 503) and is closed once every session has drained.
 *
 * @example
 * ```ts
 * const listener: ShutdownListener = { stopAccepting: () => {}, close: async () => {} };
 * ```
 */
export interface ShutdownListener {
  stopAccepting(): void;
  close(): Promise<void>;
}

/**
 * Options of {@link shutdownOnSignals}.
 *
 * @example
 * ```ts
 * const options: ShutdownOptions = { signals: ['SIGTERM'], onStopped: (stats) => console.error(stats) };
 * ```
 */
export interface ShutdownOptions {
  /** The signals that start the shutdown. Default `['SIGTERM', 'SIGINT']`. */
  signals?: NodeJS.Signals[];
  /** Listeners to stop accepting when the drain starts and to close after it. Default none. */
  listeners?: ShutdownListener[];
  /**
   * After the first signal, keep serving (while `supervisor.ready` is false, so `/readyz` answers
   * 503) for this long before the listeners stop accepting: the load balancer's time to notice. Default 0.
   */
  shutdownDelayMs?: number;
  /**
   * Called with the exit code at the end: 0 after a graceful stop, {@link FORCED_EXIT_CODE} after a
   * forced one. Default: set `process.exitCode` and let the process end by itself; call
   * `process.exit()` (once stdout and stderr are flushed, at most {@link FLUSH_WAIT_MS} later) only
   * when the stop was forced or handlers had to be abandoned, since those may still hold the
   * event loop. In a node:cluster worker it also disconnects from the primary (after what
   * `onStopped` sent it), since the IPC channel would keep the worker alive.
   */
  exit?: (code: number) => void;
  /** Called once with the final stats and the phases gone through, when stopped (also after a forced stop). */
  onStopped?: (stats: SupervisorStats, phases: PhaseTiming[]) => void;
}

/**
 * The exit code after a forced stop (a second signal): the work in flight was cut short.
 *
 * @example
 * ```ts
 * FORCED_EXIT_CODE; // 1
 * ```
 */
export const FORCED_EXIT_CODE = 1;

/**
 * How long the default exit waits for stdout and stderr to flush before `process.exit()`.
 *
 * @example
 * ```ts
 * FLUSH_WAIT_MS; // 500
 * ```
 */
export const FLUSH_WAIT_MS = 500;

const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Resolves once `stream` has written what it holds, or after `ms` (an unref'd timer). */
function flushed(stream: NodeJS.WriteStream, ms: number): Promise<void> {
  if (stream.writableLength === 0 || stream.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const event of ['drain', 'finish', 'close', 'error']) stream.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    for (const event of ['drain', 'finish', 'close', 'error']) stream.once(event, done);
  });
}

function defaultExit(code: number, hard: boolean): void {
  process.exitCode = code;
  // Node sends what is queued on the channel before it closes it.
  if (cluster.isWorker && process.connected) process.disconnect();
  if (!hard) return;
  void Promise.all([flushed(process.stdout, FLUSH_WAIT_MS), flushed(process.stderr, FLUSH_WAIT_MS)]).then(() =>
    process.exit(code),
  );
}

/**
 * Shut a supervisor down in phases when the process gets a signal ({@link Supervisor.shutdown}).
 *
 * First signal: the supervisor is unready at once (`/readyz` → 503) but keeps serving for
 * `shutdownDelayMs`; then every listener stops accepting (new requests get 503) and every session
 * drains (new requests get −32000, requests in flight finish and are answered); after
 * `drainTimeoutMs` the rest are cancelled with `shutdown`; handlers that ignore their signal are
 * abandoned after `cancelGraceMs`; the listeners are closed, `onStopped(stats, phases)` is called
 * and the exit code is 0.
 *
 * Second signal (during the shutdown or after it): the stop is forced at once: `supervisor.close()`
 * (handlers cancelled with `shutdown`), the listeners closed, `onStopped(stats, phases)`, exit code
 * {@link FORCED_EXIT_CODE}.
 *
 * Returns a function that removes the signal handlers (the signals' default behaviour comes back).
 *
 * @example
 * ```ts
 * import { createSupervisor, shutdownOnSignals } from 'session-supervisor';
 *
 * const supervisor = createSupervisor({ methods: { ping: () => ({}) }, limits: { drainTimeoutMs: 10_000 } });
 * const dispose = shutdownOnSignals(supervisor, {
 *   shutdownDelayMs: 5000,
 *   onStopped: (stats, phases) => process.stderr.write(`${JSON.stringify({ stats, phases })}\n`),
 * });
 * // later, to take the handlers off again:
 * dispose();
 * ```
 */
export function shutdownOnSignals(supervisor: Supervisor, options: ShutdownOptions = {}): () => void {
  const signals = [...(options.signals ?? DEFAULT_SIGNALS)];
  const listeners = [...(options.listeners ?? [])];
  let phase: 'waiting' | 'shutting-down' | 'stopped' | 'forced' = 'waiting';
  let reported = false;

  const exit = (code: number, hard: boolean): void => {
    if (options.exit === undefined) {
      defaultExit(code, hard);
      return;
    }
    try {
      options.exit(code);
    } catch {
      // A throwing exit callback must not turn the signal handler into a crash.
      process.exitCode = code;
    }
  };

  const stopped = (): SupervisorStats => {
    const stats = supervisor.stats();
    if (reported) return stats;
    reported = true;
    try {
      options.onStopped?.(stats, supervisor.phases());
    } catch {
      // The exit still happens.
    }
    return stats;
  };

  const graceful = async (): Promise<void> => {
    try {
      await supervisor.shutdown({ delayMs: options.shutdownDelayMs ?? 0, listeners });
    } catch {
      // shutdown() rejects only on a bad option; fall back to a plain drain.
      await supervisor.drain().catch(() => undefined);
      await Promise.allSettled(listeners.map(async (listener) => listener.close()));
    }
    if (phase !== 'shutting-down') return;
    phase = 'stopped';
    const stats = stopped();
    exit(0, stats.abandoned > 0);
  };

  const force = (): void => {
    phase = 'forced';
    if (supervisor.state !== 'stopped') void supervisor.close().catch(() => undefined);
    // The supervisor told the listeners to stop accepting as it entered `cancelling`; close them now.
    for (const listener of listeners) {
      try {
        void listener.close().catch(() => undefined);
      } catch {
        // Forced: nothing may stop the exit.
      }
    }
    stopped();
    exit(FORCED_EXIT_CODE, true);
  };

  const onSignal = (): void => {
    if (phase === 'waiting') {
      phase = 'shutting-down';
      void graceful().catch(() => undefined);
    } else if (phase !== 'forced') {
      force();
    }
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
