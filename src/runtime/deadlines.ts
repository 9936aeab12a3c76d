/**
 * Deadlines kept in FIFO order. Requests arrive in deadline order (one timeout per supervisor) and
 * cancelled handlers get the same grace, so the session's `running` map and `cancelling` set are
 * each ordered by deadline: one timer per session, armed for the front, serves all of them.
 */

/**
 * The delay until the first item's deadline; `undefined` when there is none or it is `Infinity`.
 *
 * @example
 * ```ts
 * delayToFirst([{ at: 150 }], (x) => x.at, 100); // 50
 * ```
 */
export function delayToFirst<T>(items: Iterable<T>, deadlineOf: (item: T) => number, now: number): number | undefined {
  for (const item of items) {
    const deadline = deadlineOf(item);
    // Rounded up: a timer never fires before its deadline (a fractional delay would put it in an
    // earlier timer list than a whole-millisecond timer of the same deadline armed in the same tick).
    return deadline === Infinity ? undefined : Math.max(0, Math.ceil(deadline - now));
  }
  return undefined;
}

/**
 * The items at the front whose deadline has passed, as a new array (safe to act on while the
 * collection changes).
 *
 * @example
 * ```ts
 * expiredFront([{ at: 1 }, { at: 5 }], (x) => x.at, 2); // [{ at: 1 }]
 * ```
 */
export function expiredFront<T>(items: Iterable<T>, deadlineOf: (item: T) => number, now: number): T[] {
  const expired: T[] = [];
  for (const item of items) {
    if (deadlineOf(item) > now) break;
    expired.push(item);
  }
  return expired;
}
