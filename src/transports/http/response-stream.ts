import type { ServerResponse } from 'node:http';
import type { TransportTimers } from '../ws/options.js';

/**
 * Options of one {@link ResponseStream}.
 *
 * @example
 * ```ts
 * const options: ResponseStreamOptions = { keepAliveMs: 15_000, maxBufferedBytes: 8 << 20, timers, onAbort: () => {} };
 * ```
 */
export interface ResponseStreamOptions {
  /** Headers every answer of this stream carries (e.g. `Mcp-Session-Id`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** SSE keep-alive comment interval; `0` = off. */
  readonly keepAliveMs: number;
  /** Bytes queued for a slow reader above which the response is dropped (the client counts as gone). */
  readonly maxBufferedBytes: number;
  readonly timers: TransportTimers;
  /**
   * Called once when the client closed the response before the stream ended it. Without it here,
   * nothing listens for the close until {@link ResponseStream.watch} (a response answered in the
   * tick it was opened in never needs to).
   */
  readonly onAbort?: () => void;
}

const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};

/**
 * One SSE event carrying a JSON-RPC frame (frames never hold a raw newline; split if one does).
 *
 * @example
 * ```ts
 * sseEvent('{"jsonrpc":"2.0","method":"m"}', 'st1-2'); // 'event: message\nid: st1-2\ndata: {…}\n\n'
 * ```
 */
export function sseEvent(frame: string, id: string | undefined): string {
  const data = frame.includes('\n') ? frame.split('\n').join('\ndata: ') : frame;
  return id === undefined ? `event: message\ndata: ${data}\n\n` : `event: message\nid: ${id}\ndata: ${data}\n\n`;
}

/**
 * The output of one HTTP exchange (a POST's answer, or a GET's event stream): JSON when the answer
 * is the first thing written, SSE as soon as anything else goes out first. It is the last guard
 * before the socket: once ended, aborted or destroyed nothing more is written, and every frame
 * offered after that is counted in {@link writesAfterClose}.
 *
 * @example
 * ```ts
 * const stream = new ResponseStream(res, { keepAliveMs: 15_000, timers, onAbort: () => sink.onClosed('aborted') });
 * stream.message('{"jsonrpc":"2.0","method":"notifications/progress","params":{}}'); // → SSE
 * stream.answer('{"jsonrpc":"2.0","id":1,"result":{}}'); // last event, then end
 * ```
 */
export class ResponseStream {
  private mode: 'pending' | 'sse' | 'ended' = 'pending';
  private aborted = false;
  private dropped = 0;
  private keepAliveTimer: unknown = undefined;
  private onAbort: (() => void) | undefined = undefined;
  private closeListener: (() => void) | undefined = undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: ResponseStreamOptions,
  ) {
    // The client may have left while the body was read: then nothing can ever be written.
    if (res.destroyed) this.aborted = true;
    else if (options.onAbort !== undefined) this.watch(options.onAbort);
  }

  /**
   * Listen for the client closing the response from now on: `onAbort` is called once if it closes
   * before the stream ended it. Closes are reported asynchronously, so watching before the current
   * tick ends misses none; a response already gone reads as not {@link open}.
   */
  watch(onAbort: () => void): void {
    if (this.closeListener !== undefined || this.aborted || this.mode === 'ended') return;
    this.onAbort = onAbort;
    this.closeListener = this.onClose.bind(this);
    this.res.once('close', this.closeListener);
  }

  /** `true` while frames can still be written. */
  get open(): boolean {
    return this.mode !== 'ended' && !this.aborted && !this.res.writableEnded && !this.res.destroyed;
  }

  /** Whether the client went away before the stream ended. */
  get wasAborted(): boolean {
    return this.aborted;
  }

  /** Whether the response has switched to SSE. */
  get streaming(): boolean {
    return this.mode === 'sse' || (this.mode === 'ended' && this.res.getHeader('content-type') === SSE_HEADERS['Content-Type']);
  }

  /** Frames offered after the stream ended or the client left (dropped). */
  get writesAfterClose(): number {
    return this.dropped;
  }

  /** Switch to SSE now (a GET stream, or a resumable POST); `primeId` sends a priming event with that id. */
  startSse(primeId?: string): void {
    if (!this.open || this.mode === 'sse') return;
    this.mode = 'sse';
    this.res.writeHead(200, { ...SSE_HEADERS, ...this.options.headers });
    this.res.write(primeId === undefined ? ':\n\n' : `id: ${primeId}\ndata: \n\n`);
    this.armKeepAlive();
  }

  /** Write a frame that is not the final answer (switches to SSE). `false` when dropped. */
  message(frame: string, eventId?: string): boolean {
    if (!this.open) {
      this.dropped += 1;
      return false;
    }
    if (this.mode === 'pending') this.startSse();
    this.res.write(sseEvent(frame, eventId));
    this.checkBuffered();
    return true;
  }

  /** A reader too slow to take what was written: drop the response, as if the client had left. */
  private checkBuffered(): void {
    if (this.res.writableLength > this.options.maxBufferedBytes) this.res.destroy();
  }

  /**
   * Write the final answer and end: as the JSON body with `status` when nothing was streamed yet,
   * else as the last SSE event. `false` when dropped.
   */
  answer(frame: string, status = 200, eventId?: string): boolean {
    if (!this.open) {
      this.dropped += 1;
      return false;
    }
    if (this.mode === 'sse') {
      this.res.write(sseEvent(frame, eventId));
      this.checkBuffered();
      this.end();
      return true;
    }
    this.mode = 'ended';
    this.res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(frame),
      ...this.options.headers,
    });
    this.res.end(frame);
    this.release();
    return true;
  }

  /** Answer `202 Accepted` with no body (a POST of notifications or responses only). */
  accepted(): void {
    if (!this.open || this.mode !== 'pending') return;
    this.mode = 'ended';
    this.res.writeHead(202, { ...this.options.headers });
    this.res.end();
    this.release();
  }

  /** End the response (an SSE stream ends; a JSON one that never answered gets 204 with no body). */
  end(): void {
    this.stopKeepAlive();
    if (this.mode === 'ended') return;
    const wasPending = this.mode === 'pending';
    this.mode = 'ended';
    if (this.res.writableEnded || this.res.destroyed) return;
    if (wasPending && !this.res.headersSent) this.res.writeHead(204, { ...this.options.headers });
    this.res.end();
    this.release();
  }

  /**
   * The response is ended: a later `'close'` can no longer be an abort, so stop listening for it
   * (the finished exchange is then no longer referenced from the response while Node writes).
   */
  private release(): void {
    if (this.closeListener !== undefined) this.res.off('close', this.closeListener);
  }

  private armKeepAlive(): void {
    if (this.options.keepAliveMs <= 0) return;
    this.keepAliveTimer = this.options.timers.setTimeout(() => this.keepAlive(), this.options.keepAliveMs);
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer !== undefined) this.options.timers.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  private keepAlive(): void {
    this.keepAliveTimer = undefined;
    if (!this.open || this.mode !== 'sse') return;
    this.res.write(':\n\n');
    this.armKeepAlive();
  }

  private onClose(): void {
    this.stopKeepAlive();
    if (this.mode === 'ended' && this.res.writableEnded) return;
    this.aborted = true;
    this.onAbort?.();
  }
}
