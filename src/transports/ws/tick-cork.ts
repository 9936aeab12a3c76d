/**
 * What a transport needs of the TCP socket under it to batch the frames of one tick.
 *
 * @example
 * ```ts
 * const stream: Corkable = request.socket; // the 'upgrade' event's socket
 * ```
 */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Bytes of small frames batched into one write at most. */
const CORK_LIMIT = 16 * 1024;

/**
 * Corks a socket at the first frame of a tick and uncorks it at `process.nextTick`, so the frames
 * a session sends in one tick leave in one `writev`. Past `min(16 KiB, limit)` bytes it flushes at
 * once, so corked bytes never read as backpressure.
 *
 * @example
 * ```ts
 * const cork = new TickCork(socket, highWaterMark / 4);
 * cork.before();
 * ws.send(frame);
 * cork.after(frame.length);
 * ```
 */
export class TickCork {
  private corked = false;
  private bytes = 0;
  private readonly limit: number;

  constructor(
    private readonly stream: Corkable,
    limit: number,
  ) {
    this.limit = Math.min(CORK_LIMIT, limit);
  }

  /** Before a frame is written: cork, if this tick has not yet. */
  before(): void {
    if (this.corked) return;
    this.corked = true;
    this.bytes = 0;
    this.stream.cork();
    process.nextTick(this.flush);
  }

  /** After a frame of `length` bytes was written: flush at once past the limit. */
  after(length: number): void {
    if (this.corked && (this.bytes += length) >= this.limit) this.flush();
  }

  /** Write what is corked now (before a close frame, or before the socket is destroyed). */
  readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  };
}
