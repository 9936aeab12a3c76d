import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { delayToFirst, expiredFront } from '../../runtime/deadlines.js';
import { LinkedList, type Linked } from '../../runtime/linked-list.js';
import type { TransportTimers } from '../ws/options.js';

/**
 * The outcome of reading a request body: its text, or why it was refused (413 too large, 408 too
 * slow, 400 not UTF-8 or the request broke off).
 *
 * @example
 * ```ts
 * const outcome: BodyOutcome = { ok: false, status: 413, message: 'Payload Too Large' };
 * ```
 */
export type BodyOutcome = { ok: true; text: string } | { ok: false; status: 400 | 408 | 413; message: string };

/**
 * Limits of {@link BodyReaders}.
 *
 * @example
 * ```ts
 * const limits: BodyLimits = { maxBodyBytes: 4 << 20, bodyTimeoutMs: 30_000, timers };
 * ```
 */
export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly timers: TransportTimers;
}

const deadlineOf = (reader: BodyReader): number => reader.deadline;

/** A body a framework already parsed (`express.json()` sets `req.body`), as text; `undefined` if none. */
function preParsed(request: IncomingMessage): string | undefined {
  const body = (request as { body?: unknown }).body;
  if (body === undefined) return undefined;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}

/**
 * Reads request bodies as UTF-8 text without ever holding more than `maxBodyBytes`: a
 * `Content-Length` above it is refused before reading (413), a chunked body is counted while it
 * streams (413 as soon as it passes the limit), and the whole body must arrive within
 * `bodyTimeoutMs` (408). Invalid UTF-8 → 400. A body already parsed by a framework (`req.body`) is
 * used as it is.
 *
 * Every body gets the same timeout, so bodies reach their deadlines in the order they started: one
 * timer, armed for the oldest unfinished body, serves all of them (a body that arrives with its
 * headers, the common case, costs a list entry and no timer of its own), the way the runtime's
 * request and cancel-grace deadlines work (runtime/deadlines.ts).
 *
 * @example
 * ```ts
 * const bodies = new BodyReaders({ maxBodyBytes: 4 << 20, bodyTimeoutMs: 30_000, timers });
 * bodies.read(request, (body) => {
 *   if (!body.ok) refuse(response, body.status, body.message);
 * });
 * ```
 */
export class BodyReaders {
  /** Unfinished bodies, oldest (earliest deadline) first. */
  private readonly pending = new LinkedList<BodyReader>();
  private timer: unknown = undefined;
  /** The deadline the timer was armed for. */
  private armedFor = 0;

  constructor(readonly limits: BodyLimits) {}

  /** Bodies still being read. */
  get reading(): number {
    return this.pending.size;
  }

  /**
   * Read one body; `done` is called once with the outcome (synchronously when it is known at once:
   * a pre-parsed body, a `Content-Length` over the limit); a callback, not a promise, so a request
   * costs no promise and no microtask hop here.
   */
  read(request: IncomingMessage, done: (outcome: BodyOutcome) => void): void {
    const { limits } = this;
    const parsed = preParsed(request);
    if (parsed !== undefined) {
      done(Buffer.byteLength(parsed) > limits.maxBodyBytes ? { ok: false, status: 413, message: 'Payload Too Large' } : { ok: true, text: parsed });
      return;
    }
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
      done({ ok: false, status: 413, message: 'Payload Too Large' });
      return;
    }
    const reader = new BodyReader(request, limits.maxBodyBytes, performance.now() + limits.bodyTimeoutMs, this, done);
    this.pending.add(reader);
    if (this.timer === undefined) this.arm();
  }

  /** A body finished (read, refused or broken off): it no longer needs its deadline. */
  settled(reader: BodyReader): void {
    this.pending.delete(reader);
  }

  /** Arm the timer for the oldest unfinished body, if there is one. */
  private arm(): void {
    const delay = delayToFirst(this.pending, deadlineOf, performance.now());
    if (delay === undefined) return;
    this.armedFor = this.pending.first!.deadline;
    const timer = this.limits.timers.setTimeout(this.onTimer, delay);
    // Never what keeps a process alive: an unfinished body's socket does that.
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.timer = timer;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    // The timer is authoritative for the deadline it was armed for (timers injected for tests may
    // fire at any wall time); past that, the clock decides.
    for (const reader of expiredFront(this.pending, deadlineOf, Math.max(performance.now(), this.armedFor))) reader.expire();
    this.arm();
  };
}

/**
 * The state of one body being read, in one object; its three listeners are its methods, bound once
 * per body. A client that breaks the body off destroys the request, which always ends in `'close'`
 * (an `'error'` first only if someone listens for it), so `'close'` before `'end'` is the break.
 */
class BodyReader implements Linked<BodyReader> {
  listPrev: BodyReader | undefined = undefined;
  listNext: BodyReader | undefined = undefined;
  listed = false;
  /** The first chunk; the rest (rare: a body larger than one read) in `more`. */
  private first: Buffer | undefined = undefined;
  private more: Buffer[] | undefined = undefined;
  private size = 0;
  private done = false;
  private readonly onDataListener: (chunk: Buffer) => void;
  private readonly onEndListener: () => void;
  private readonly onCloseListener: () => void;

  constructor(
    private readonly request: IncomingMessage,
    private readonly maxBodyBytes: number,
    /** When the whole body must be in (`performance.now()` time). */
    readonly deadline: number,
    private readonly owner: BodyReaders,
    private readonly resolve: (outcome: BodyOutcome) => void,
  ) {
    this.onDataListener = this.onData.bind(this);
    this.onEndListener = this.onEnd.bind(this);
    this.onCloseListener = this.onClose.bind(this);
    request.on('data', this.onDataListener);
    request.on('end', this.onEndListener);
    request.on('close', this.onCloseListener);
  }

  /** The deadline passed before the body was in: 408. */
  expire(): void {
    this.finish({ ok: false, status: 408, message: 'Request Timeout: the body did not arrive in time' });
  }

  private finish(outcome: BodyOutcome): void {
    if (this.done) return;
    this.done = true;
    this.owner.settled(this);
    if (!outcome.ok) {
      // Stop reading; the refusal closes the connection, so the rest is never parsed as a request.
      const request = this.request;
      request.off('data', this.onDataListener);
      request.off('end', this.onEndListener);
      request.off('close', this.onCloseListener);
      request.pause();
    }
    // A body read whole keeps its listeners: after `'end'` no data comes, and the `'close'` that
    // follows finds the reader done (removing three listeners per request costs more than that).
    this.resolve(outcome);
  }

  private onData(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.maxBodyBytes) {
      this.first = undefined;
      this.more = undefined;
      this.finish({ ok: false, status: 413, message: 'Payload Too Large' });
      return;
    }
    if (this.first === undefined) this.first = chunk;
    else (this.more ??= []).push(chunk);
  }

  private onEnd(): void {
    const first = this.first ?? Buffer.alloc(0);
    const bytes = this.more === undefined ? first : Buffer.concat([first, ...this.more]);
    if (!isUtf8(bytes)) {
      this.finish({ ok: false, status: 400, message: 'Parse error: invalid UTF-8' });
      return;
    }
    // A leading byte order mark is dropped (RFC 8259 lets a parser ignore it).
    const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    this.finish({ ok: true, text: bytes.toString('utf8', bom ? 3 : 0) });
  }

  /** The request closed before its end: the client broke the body off (or it was destroyed). */
  private onClose(): void {
    this.finish({ ok: false, status: 400, message: 'Bad Request: the request body broke off' });
  }
}
