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
  /** Listeners to stop accepting at once and to close after the drain. Default none. */
  listeners?: ShutdownListener[];
  /**
   * Called with the exit code at the end: 0 after a graceful stop, {@link FORCED_EXIT_CODE} after a
   * forced one. Default: set `process.exitCode` and let the process end by itself; call
   * `process.exit()` (once stdout and stderr are flushed, at most {@link FLUSH_WAIT_MS} later) only
   * when the stop was forced or handlers had to be abandoned, since those may still hold the
   * event loop.
   */
  exit?: (code: number) => void;
  /** Called once with the final stats, when stopped (also after a forced stop). */
  onStopped?: (stats: SupervisorStats) => void;
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
  if (!hard) return;
  void Promise.all([flushed(process.stdout, FLUSH_WAIT_MS), flushed(process.stderr, FLUSH_WAIT_MS)]).then(() =>
    process.exit(code),
  );
}

/**
 * Shut a supervisor down in order when the process gets a signal.
 *
 * First signal: every listener stops accepting (upgrades get 503), then `supervisor.drain()`: every
 * session drains (new requests get −32000, requests in flight finish and are answered), after
 * `drainTimeoutMs` the rest are cancelled with `drain-timeout`, handlers that ignore their signal are
 * abandoned after `cancelGraceMs`. Then the listeners are closed, `onStopped(stats)` is called and
 * the exit code is 0.
 *
 * Second signal (during the drain or after it): the stop is forced at once: `supervisor.close()`
 * (handlers cancelled with `shutdown`), `onStopped(stats)`, exit code {@link FORCED_EXIT_CODE}.
 *
 * Returns a function that removes the signal handlers (the signals' default behaviour comes back).
 *
 * @example
 * ```ts
 * import { createSupervisor, shutdownOnSignals } from 'session-supervisor';
 *
 * const supervisor = createSupervisor({ methods: { ping: () => ({}) }, limits: { drainTimeoutMs: 10_000 } });
 * const dispose = shutdownOnSignals(supervisor, {
 *   onStopped: (stats) => process.stderr.write(`${JSON.stringify(stats)}\n`),
 * });
 * // later, to take the handlers off again:
 * dispose();
 * ```
 */
export function shutdownOnSignals(supervisor: Supervisor, options: ShutdownOptions = {}): () => void {
  const signals = [...(options.signals ?? DEFAULT_SIGNALS)];
  const listeners = [...(options.listeners ?? [])];
  let phase: 'waiting' | 'draining' | 'stopped' | 'forced' = 'waiting';
  let accepting = true;
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

  const stopAccepting = (): void => {
    if (!accepting) return;
    accepting = false;
    for (const listener of listeners) {
      try {
        listener.stopAccepting();
      } catch {
        // A listener that cannot stop accepting still gets drained and closed.
      }
    }
  };

  let listenersClosed: Promise<unknown> | undefined;
  const closeListeners = (): Promise<unknown> => {
    listenersClosed ??= Promise.allSettled(
      listeners.map((listener) => {
        try {
          return listener.close();
        } catch (error) {
          return Promise.reject(error);
        }
      }),
    );
    return listenersClosed;
  };

  const stopped = (): SupervisorStats => {
    const stats = supervisor.stats();
    if (reported) return stats;
    reported = true;
    try {
      options.onStopped?.(stats);
    } catch {
      // The exit still happens.
    }
    return stats;
  };

  const graceful = async (): Promise<void> => {
    stopAccepting();
    try {
      await supervisor.drain();
    } catch {
      // drain() does not reject; whatever happened, go on to close and exit.
    }
    await closeListeners();
    if (phase !== 'draining') return;
    phase = 'stopped';
    const stats = stopped();
    exit(0, stats.abandoned > 0);
  };

  const force = (): void => {
    phase = 'forced';
    stopAccepting();
    if (supervisor.state !== 'stopped') void supervisor.close().catch(() => undefined);
    void closeListeners();
    stopped();
    exit(FORCED_EXIT_CODE, true);
  };

  const onSignal = (): void => {
    if (phase === 'waiting') {
      phase = 'draining';
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
