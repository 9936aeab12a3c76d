/**
 * The clock the runtime reads and schedules on. Inject a test clock to make timeouts and drains
 * deterministic.
 *
 * @example
 * ```ts
 * const clock: Clock = systemClock;
 * const handle = clock.setTimeout(() => console.log('later'), 10);
 * clock.clearTimeout(handle);
 * ```
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock (monotonic `performance.now()` and the global timers).
 *
 * @example
 * ```ts
 * createSupervisor({ methods, clock: systemClock });
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A manual clock: time moves only when `advance()` is called. `pending` counts live timers, so a
 * test can check that nothing is left behind.
 *
 * @example
 * ```ts
 * const clock = createTestClock();
 * clock.setTimeout(() => console.log('fired'), 100);
 * clock.advance(100); // logs 'fired'
 * clock.pending; // 0
 * ```
 */
export interface TestClock extends Clock {
  advance(ms: number): void;
  readonly pending: number;
}

/**
 * Create a {@link TestClock} starting at time 0.
 *
 * @example
 * ```ts
 * const clock = createTestClock();
 * ```
 */
export function createTestClock(): TestClock {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let nextIdFound: number | undefined;
        let nextAt = Infinity;
        for (const [id, t] of timers) {
          if (t.at <= until && t.at < nextAt) {
            nextAt = t.at;
            nextIdFound = id;
          }
        }
        if (nextIdFound === undefined) break;
        const timer = timers.get(nextIdFound)!;
        timers.delete(nextIdFound);
        now = Math.max(now, timer.at);
        timer.fn();
      }
      now = until;
    },
    get pending() {
      return timers.size;
    },
  };
}
