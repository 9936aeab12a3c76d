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
 * used as it is.
 *
 * @example
 * ```ts
 * const body = await readBody(request, { maxBodyBytes: 4 << 20, bodyTimeoutMs: 30_000, timers });
 * if (!body.ok) return refuse(response, body.status, body.message);
 * ```
 */
export function readBody(request: IncomingMessage, limits: BodyLimits): Promise<BodyOutcome> {
  const parsed = preParsed(request);
  if (parsed !== undefined) {
    return Promise.resolve(
      Buffer.byteLength(parsed) > limits.maxBodyBytes ? { ok: false, status: 413, message: 'Payload Too Large' } : { ok: true, text: parsed },
    );
  }
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
    return Promise.resolve({ ok: false, status: 413, message: 'Payload Too Large' });
  }
  return new Promise<BodyOutcome>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: BodyOutcome): void => {
      if (settled) return;
      settled = true;
      limits.timers.clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
      if (!outcome.ok) {
        // Stop reading; the refusal closes the connection, so the rest is never parsed as a request.
        request.pause();
      }
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBodyBytes) {
        chunks.length = 0;
        finish({ ok: false, status: 413, message: 'Payload Too Large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      let text: string;
      try {
        text = utf8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      } catch {
        finish({ ok: false, status: 400, message: 'Parse error: invalid UTF-8' });
        return;
      }
      finish({ ok: true, text });
    };
    const onError = (): void => finish({ ok: false, status: 400, message: 'Bad Request: the request body broke off' });
    const onClose = (): void => {
      if (!request.complete) onError();
    };
    const timer = limits.timers.setTimeout(() => finish({ ok: false, status: 408, message: 'Request Timeout: the body did not arrive in time' }), limits.bodyTimeoutMs);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}
