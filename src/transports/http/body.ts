import type { IncomingMessage } from 'node:http';
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
 * Limits of {@link readBody}.
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

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body a framework already parsed (`express.json()` sets `req.body`), as text; `undefined` if none. */
function preParsed(request: IncomingMessage): string | undefined {
  const body = (request as { body?: unknown }).body;
  if (body === undefined) return undefined;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}

/**
 * Read a request body as UTF-8 text without ever holding more than `maxBodyBytes`: a
 * `Content-Length` above it is refused before reading (413), a chunked body is counted while it
 * streams (413 as soon as it passes the limit), and the whole body must arrive within
 * `bodyTimeoutMs` (408). Invalid UTF-8 → 400. A body already parsed by a framework (`req.body`) is
 * used as it is. `done` is called once with the outcome (synchronously when it is known at once: a
 * pre-parsed body, a `Content-Length` over the limit); a callback, not a promise, so a request
 * costs no promise and no microtask hop here.
 *
 * @example
 * ```ts
 * readBody(request, { maxBodyBytes: 4 << 20, bodyTimeoutMs: 30_000, timers }, (body) => {
 *   if (!body.ok) refuse(response, body.status, body.message);
 * });
 * ```
 */
export function readBody(request: IncomingMessage, limits: BodyLimits, done: (outcome: BodyOutcome) => void): void {
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
  new BodyReader(request, limits, done);
}

/** The state of one body being read, in one object; its listeners are its methods, bound once per body. */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private timer: unknown = undefined;
  private readonly listeners: {
    readonly data: (chunk: Buffer) => void;
    readonly end: () => void;
    readonly error: () => void;
    readonly close: () => void;
  };

  constructor(
    private readonly request: IncomingMessage,
    private readonly limits: BodyLimits,
    private readonly resolve: (outcome: BodyOutcome) => void,
  ) {
    this.listeners = { data: this.onData.bind(this), end: this.onEnd.bind(this), error: this.onError.bind(this), close: this.onClose.bind(this) };
    // The body of a small POST arrives with its headers: by the time the parser has taken the
    // packet (before any microtask runs) the request is complete and needs no timer.
    queueMicrotask(this.armUnlessComplete.bind(this));
    request.on('data', this.listeners.data);
    request.on('end', this.listeners.end);
    request.on('error', this.listeners.error);
    request.on('close', this.listeners.close);
  }

  /** Arm the body deadline unless the whole body is already in (the common case). */
  private armUnlessComplete(): void {
    if (this.settled || this.request.complete) return;
    this.timer = this.limits.timers.setTimeout(this.onTimeout.bind(this), this.limits.bodyTimeoutMs);
  }

  private finish(outcome: BodyOutcome): void {
    if (this.settled) return;
    this.settled = true;
    const { request, listeners } = this;
    if (this.timer !== undefined) this.limits.timers.clearTimeout(this.timer);
    request.off('data', listeners.data);
    request.off('end', listeners.end);
    request.off('error', listeners.error);
    request.off('close', listeners.close);
    if (!outcome.ok) {
      // Stop reading; the refusal closes the connection, so the rest is never parsed as a request.
      request.pause();
    }
    this.resolve(outcome);
  }

  private onData(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.limits.maxBodyBytes) {
      this.chunks.length = 0;
      this.finish({ ok: false, status: 413, message: 'Payload Too Large' });
      return;
    }
    this.chunks.push(chunk);
  }

  private onEnd(): void {
    const chunks = this.chunks;
    let text: string;
    try {
      text = utf8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    } catch {
      this.finish({ ok: false, status: 400, message: 'Parse error: invalid UTF-8' });
      return;
    }
    this.finish({ ok: true, text });
  }

  private onError(): void {
    this.finish({ ok: false, status: 400, message: 'Bad Request: the request body broke off' });
  }

  private onClose(): void {
    if (!this.request.complete) this.onError();
  }

  private onTimeout(): void {
    this.finish({ ok: false, status: 408, message: 'Request Timeout: the body did not arrive in time' });
  }
}
