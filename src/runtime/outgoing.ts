import { JsonRpcError, SupervisorError } from '../jsonrpc/errors.js';
import { encodeRequest } from '../jsonrpc/codec.js';
import type { JsonRpcResponse } from '../jsonrpc/schema.js';
import type { Clock } from './clock.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: unknown;
}

/**
 * The requests a session sends to its peer (`session.request()`, e.g. MCP `ping` from the server),
 * waiting for their responses. Ids are numbers from 1, so they never collide with one another.
 *
 * @example
 * ```ts
 * const outgoing = new OutgoingRequests(clock);
 * const answer = outgoing.send('s1', 'ping', undefined, 5_000, (frame) => transport.send(frame));
 * outgoing.onResponse({ jsonrpc: '2.0', id: 1, result: {} }); // true: answer resolves with {}
 * ```
 */
export class OutgoingRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly clock: Clock) {}

  /**
   * Write the request with `write` and wait for its response. Rejects with `ERR_SESSION_CLOSED`
   * when `write` refuses it, `ERR_REQUEST_TIMEOUT` after `timeoutMs`, or the peer's error as a
   * `JsonRpcError`.
   */
  send(sessionId: string, method: string, params: unknown, timeoutMs: number, write: (frame: string) => boolean): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(new SupervisorError('ERR_REQUEST_TIMEOUT', `${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (!write(encodeRequest(id, method, params))) {
        this.clock.clearTimeout(timer);
        this.pending.delete(id);
        reject(new SupervisorError('ERR_SESSION_CLOSED', `session ${sessionId} cannot send`));
      }
    });
  }

  /** Settle the request this response answers; `false` when none is waiting for it. */
  onResponse(message: JsonRpcResponse): boolean {
    const id = message.id;
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (pending === undefined || typeof id !== 'number') return false;
    this.pending.delete(id);
    this.clock.clearTimeout(pending.timer);
    if ('error' in message) pending.reject(new JsonRpcError(message.error.code, message.error.message, message.error.data));
    else pending.resolve(message.result);
    return true;
  }

  /** Reject every request still waiting (the session closed), and stop their timers. */
  rejectAll(sessionId: string): void {
    for (const [id, pending] of [...this.pending]) {
      this.clock.clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(new SupervisorError('ERR_SESSION_CLOSED', `session ${sessionId} closed`));
    }
  }
}
