/**
 * What a Streamable HTTP handler has done so far: legacy sessions, modern exchanges and refusals.
 * For metrics: `sessions.open` is a gauge, the rest are counters.
 *
 * @example
 * ```ts
 * const { sessions, exchanges, refused } = listener.stats();
 * console.log(sessions.open, exchanges.total, refused[503] ?? 0);
 * ```
 */
export interface HttpStats {
  /** Legacy sessions: open now; created, expired by the idle timeout, deleted by the client, refused at the cap, ever. */
  sessions: { open: number; created: number; expired: number; deleted: number; refused: number };
  /** Modern exchanges: open now, ever, and closed by the client before their answer. */
  exchanges: { open: number; total: number; aborted: number };
  /** Requests answered with an HTTP error status before reaching a session, by status. */
  refused: Record<number, number>;
  /** Frames offered to an HTTP response that had already ended (dropped; should stay 0). */
  writesAfterClose: number;
  /** Legacy frames that no stream could carry and no event store kept. */
  undelivered: number;
  /** Request bodies still arriving now (each bounded by `bodyTimeoutMs`). */
  bodiesReading: number;
}

/**
 * One exchange as the counters see it.
 *
 * @example
 * ```ts
 * const counted: CountedExchange = { aborted: true, writesAfterClose: 0 };
 * ```
 */
export interface CountedExchange {
  readonly aborted: boolean;
  readonly writesAfterClose: number;
}

/**
 * The live counters behind {@link HttpStats}.
 *
 * @example
 * ```ts
 * const counters = new HttpStatsCounter();
 * counters.refused(403);
 * counters.snapshot({ openCount: 0, writesAfterClose: 0 }).refused; // { 403: 1 }
 * ```
 */
export class HttpStatsCounter {
  sessionsCreated = 0;
  sessionsExpired = 0;
  sessionsDeleted = 0;
  sessionsRefused = 0;
  exchangesOpen = 0;
  exchangesTotal = 0;
  exchangesAborted = 0;
  writesAfterClose = 0;
  undelivered = 0;
  private readonly refusals = new Map<number, number>();

  refused(status: number): void {
    this.refusals.set(status, (this.refusals.get(status) ?? 0) + 1);
  }

  exchangeOpened(_exchange: CountedExchange): void {
    this.exchangesOpen += 1;
    this.exchangesTotal += 1;
  }

  exchangeClosed(exchange: CountedExchange): void {
    this.exchangesOpen -= 1;
    if (exchange.aborted) this.exchangesAborted += 1;
    this.writesAfterClose += exchange.writesAfterClose;
  }

  snapshot(sessions: { readonly openCount: number; readonly writesAfterClose: number }, bodiesReading: number): HttpStats {
    return {
      sessions: {
        open: sessions.openCount,
        created: this.sessionsCreated,
        expired: this.sessionsExpired,
        deleted: this.sessionsDeleted,
        refused: this.sessionsRefused,
      },
      exchanges: { open: this.exchangesOpen, total: this.exchangesTotal, aborted: this.exchangesAborted },
      refused: Object.fromEntries(this.refusals),
      writesAfterClose: this.writesAfterClose + sessions.writesAfterClose,
      undelivered: this.undelivered,
      bodiesReading,
    };
  }
}
