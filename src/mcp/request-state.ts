import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What a signed `requestState` carries: the request it belongs to (method and name), the input
 * responses gathered in earlier rounds, the round number and an expiry.
 */
export interface RequestStatePayload {
  /** The method of the request (`tools/call`, `prompts/get`, `resources/read`). */
  m: string;
  /** The tool or prompt name, or the resource URI. */
  n: string;
  /** Input responses of earlier rounds, by key. */
  r: Record<string, unknown>;
  /** Rounds answered so far. */
  k: number;
  /** Expiry (ms since the epoch). */
  x: number;
}

/**
 * Signs and verifies MRTR `requestState` strings with HMAC-SHA256: `base64url(payload).base64url(mac)`.
 * The state travels through the client, so it is attacker-controlled input: a state that fails
 * verification, has expired, or belongs to another request is refused.
 *
 * @example
 * ```ts
 * const codec = new RequestStateCodec({ key: Buffer.alloc(32, 1) });
 * const state = codec.seal({ m: 'tools/call', n: 'book', r: {}, k: 1, x: Date.now() + 60_000 });
 * codec.open(state, 'tools/call', 'book'); // the payload
 * ```
 */
export class RequestStateCodec {
  private readonly key: Buffer;
  readonly ttlMs: number;

  constructor(options: { key?: Uint8Array | string; ttlMs?: number } = {}) {
    this.key = options.key === undefined ? randomBytes(32) : Buffer.from(options.key);
    if (this.key.length < 16) throw new TypeError('requestState key must be at least 16 bytes');
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }

  /** Sign a payload. */
  seal(payload: RequestStatePayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /**
   * Verify a state for a request; returns the payload, or a reason it was refused
   * (`malformed`, `bad-signature`, `expired`, `other-request`).
   */
  open(state: string, method: string, name: string, now = Date.now()): RequestStatePayload | { refused: string } {
    const dot = state.indexOf('.');
    if (dot <= 0 || dot !== state.lastIndexOf('.')) return { refused: 'malformed' };
    const body = state.slice(0, dot);
    const given = Buffer.from(state.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { refused: 'bad-signature' };
    let payload: RequestStatePayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as RequestStatePayload;
    } catch {
      return { refused: 'malformed' };
    }
    if (typeof payload !== 'object' || payload === null || typeof payload.r !== 'object' || payload.r === null) return { refused: 'malformed' };
    if (typeof payload.x !== 'number' || payload.x < now) return { refused: 'expired' };
    if (payload.m !== method || payload.n !== name) return { refused: 'other-request' };
    return payload;
  }
}
