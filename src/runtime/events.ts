import type { SupervisorPhase } from '../../machines/supervisor.js';
import type { RequestId } from '../../machines/handler.js';
import type { CancelReason, DrainReason } from '../../machines/reasons.js';
import type { SessionCloseInfo } from './session.js';

/**
 * The typed events a supervisor emits (`supervisor.on(type, listener)`). The library never logs on
 * its own; these events and the optional logger are how it tells what it does.
 *
 * @example
 * ```ts
 * supervisor.on('request.cancelled', ({ requestId, reason }) => console.log(requestId, reason));
 * ```
 */
export interface SupervisorEvents {
  'session.opened': { sessionId: string; transport: string };
  'session.closed': SessionCloseInfo;
  'session.failed': { sessionId: string; error: unknown };
  /** A session started draining (no new requests; in-flight ones may finish). */
  'session.draining': { sessionId: string; reason: DrainReason };
  /**
   * A request was admitted and its handler starts. `params` are the request's params as received
   * (after validation), so a listener can read `_meta` (e.g. trace context). Emitted only while
   * someone listens: an unobserved request allocates nothing for it.
   */
  'request.started': {
    sessionId: string;
    requestId: RequestId;
    method: string;
    transport: string;
    params: unknown;
    /** The transport's {@link Transport.protocolSessionId}. */
    protocolSessionId: string | null | undefined;
  };
  /** A handler answered (result or error) before any cancel; `durationMs` on the supervisor's clock. */
  'request.completed': {
    sessionId: string;
    requestId: RequestId;
    method: string;
    outcome: 'result' | 'error';
    durationMs: number;
    /** What the handler returned (`undefined` when the outcome is `error`). An MCP tool error is a result with `isError: true`. */
    result: unknown;
  };
  'request.failed': { sessionId: string; requestId: RequestId; method: string; error: unknown };
  'request.cancelled': { sessionId: string; requestId: RequestId; method: string; reason: CancelReason };
  'handler.abandoned': { sessionId: string; requestId: RequestId; method: string; reason: CancelReason };
  'send.blocked': { sessionId: string; state: string };
  'health.changed': { healthy: boolean; failuresInWindow: number };
  /** The supervisor left phase `from` (after `ms` on its clock) and entered `to`. */
  'supervisor.phase': { from: SupervisorPhase; to: SupervisorPhase; ms: number };
  'supervisor.stopped': Record<string, never>;
}

/**
 * A listener of one supervisor event.
 *
 * @example
 * ```ts
 * const onClosed: SupervisorListener<'session.closed'> = (info) => console.log(info.reason);
 * ```
 */
export type SupervisorListener<K extends keyof SupervisorEvents> = (event: SupervisorEvents[K]) => void;

/**
 * A small typed emitter; a throwing listener is reported to `onListenerError`, never to the caller.
 * Each type's listeners are an array replaced (never changed in place) by `on` and by unsubscribing,
 * so `emit` walks the array it read without copying it, and a listener added or removed while an
 * event is delivered takes effect from the next event.
 */
export class Emitter {
  private readonly listeners = new Map<keyof SupervisorEvents, readonly ((event: never) => void)[]>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  on<K extends keyof SupervisorEvents>(type: K, listener: SupervisorListener<K>): () => void {
    const fn = listener as (event: never) => void;
    const current = this.listeners.get(type) ?? [];
    if (!current.includes(fn)) this.listeners.set(type, [...current, fn]);
    return () => {
      const now = this.listeners.get(type);
      if (now === undefined || !now.includes(fn)) return;
      const rest = now.filter((other) => other !== fn);
      if (rest.length === 0) this.listeners.delete(type);
      else this.listeners.set(type, rest);
    };
  }

  /** Whether anyone listens to `type` (so an emitter can skip building the event). */
  has(type: keyof SupervisorEvents): boolean {
    return this.listeners.has(type);
  }

  emit<K extends keyof SupervisorEvents>(type: K, event: SupervisorEvents[K]): void {
    const listeners = this.listeners.get(type);
    if (listeners === undefined) return;
    for (let i = 0; i < listeners.length; i += 1) {
      try {
        (listeners[i] as SupervisorListener<K>)(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
