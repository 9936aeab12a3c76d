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

/** A small typed emitter; a throwing listener is reported to `onListenerError`, never to the caller. */
export class Emitter {
  private readonly listeners = new Map<keyof SupervisorEvents, Set<(event: never) => void>>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  on<K extends keyof SupervisorEvents>(type: K, listener: SupervisorListener<K>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  /** Whether anyone listens to `type` (so an emitter can skip building the event). */
  has(type: keyof SupervisorEvents): boolean {
    const set = this.listeners.get(type);
    return set !== undefined && set.size > 0;
  }

  emit<K extends keyof SupervisorEvents>(type: K, event: SupervisorEvents[K]): void {
    const set = this.listeners.get(type);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as SupervisorListener<K>)(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
