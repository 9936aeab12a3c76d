import type { Clock } from './clock.js';
import { delayToFirst, expiredFront } from './deadlines.js';
import type { HandlerRecord } from './record.js';

/** What owns a cancelled handler: it abandons the handler once its grace has passed. */
export interface GraceOwner {
  abandon(record: HandlerRecord): void;
}

type Entry = [HandlerRecord, GraceOwner];

const deadlineOf = (entry: Entry): number => entry[0].graceDeadline;

/**
 * The cancel-grace deadlines of every cancelled handler of one runtime (every session of a
 * supervisor), with one timer for the oldest. The grace is the same for every handler of a
 * runtime, so the queue is a FIFO in cancel order. One timer per runtime instead of one per
 * session: 10 000 one-exchange HTTP sessions aborted at once arm one timer, not 10 000.
 *
 * @example
 * ```ts
 * const queue = new GraceQueue(clock); // one per supervisor: SessionRuntime.graceQueue
 * record.graceDeadline = clock.now() + limits.cancelGraceMs;
 * queue.add(record, inflight); // inflight.abandon(record) once the deadline passed
 * queue.delete(record); // it settled first
 * ```
 */
export class GraceQueue {
  private readonly entries = new Map<HandlerRecord, GraceOwner>();
  private timer: unknown = undefined;

  constructor(private readonly clock: Clock) {}

  /** Start the grace of a cancelled handler (its `graceDeadline` is set). */
  add(record: HandlerRecord, owner: GraceOwner): void {
    this.entries.set(record, owner);
    if (this.timer === undefined) this.arm();
  }

  /** The handler settled or was abandoned; `false` if it was not waiting here. */
  delete(record: HandlerRecord): boolean {
    if (!this.entries.delete(record)) return false;
    if (this.entries.size === 0 && this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    return true;
  }

  private arm(): void {
    const delay = delayToFirst(this.entries.entries(), deadlineOf, this.clock.now());
    if (delay !== undefined) this.timer = this.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = undefined;
    for (const [record, owner] of expiredFront(this.entries.entries(), deadlineOf, this.clock.now())) owner.abandon(record);
    if (this.entries.size > 0 && this.timer === undefined) this.arm();
  }
}
