import type { AnyActorRef } from 'xstate';
import type { ConnectionPhase } from '../../machines/connection.js';
import type { CancelReason, DrainReason } from '../../machines/reasons.js';
import { encodeError, encodeNotification } from '../jsonrpc/codec.js';
import { SupervisorError } from '../jsonrpc/errors.js';
import type { JsonRpcResponse } from '../jsonrpc/schema.js';
import type { CloseIntent, MalformedFrame, Transport, TransportSink } from '../transports/types.js';
import type { Batch } from './batch.js';
import type { SessionRuntime } from './context.js';
import { dispatchFrame, malformedError } from './dispatch.js';
import { ConnectionDriver, type ConnectionActor } from './driver.js';
import { InFlight } from './inflight.js';
import type { Linked } from './linked-list.js';
import type { SessionHandle } from './methods.js';
import { OutgoingRequests } from './outgoing.js';
import type { HandlerRecord } from './record.js';

export type { ConnectionActor } from './driver.js';

/**
 * How a session ended.
 *
 * @example
 * ```ts
 * const info = await session.closed;
 * info.reason; // 'transport-closed', 'shutdown', … or null when it drained idle
 * ```
 */
export interface SessionCloseInfo {
  sessionId: string;
  /** The reason given to the handlers still live at the close (`null`: none were, it drained idle). */
  reason: CancelReason | null;
  drainReason: DrainReason | null;
  failed: boolean;
}

/**
 * A transport that carries exactly one exchange (a modern Streamable HTTP POST: one request, one
 * answer) says so with `singleExchange: true`; its session runs on the lean connection actor (the
 * same decisions as the connection machine, without xstate's interpreter, which cost most of such
 * a short session's CPU).
 *
 * @example
 * ```ts
 * class OnePost implements Transport, SingleExchangeTransport {
 *   readonly singleExchange = true as const;
 *   // …
 * }
 * ```
 */
export interface SingleExchangeTransport {
  readonly singleExchange?: true;
}

/** How the runtime asks a transport to close, by the reason of the close. */
const closeIntentOf = (reason: CancelReason | null): CloseIntent =>
  reason === 'session-failed' ? 'internal-error' : reason === null || reason === 'transport-closed' ? 'normal' : 'going-away';

/**
 * One connection: a connection actor over one transport (run by its {@link ConnectionDriver}), its
 * in-flight handler actors and the send guard. Created by `supervisor.attach(transport)`; the
 * transport reports to it as its {@link TransportSink}.
 *
 * @example
 * ```ts
 * const session = supervisor.attach(transport);
 * session.state; // 'connected'
 * await session.closed;
 * ```
 */
export class Session implements SessionHandle, TransportSink, Linked<Session> {
  /** @internal The supervisor's list of open sessions. */
  listPrev: Session | undefined = undefined;
  /** @internal */
  listNext: Session | undefined = undefined;
  /** @internal */
  listed = false;
  private inflightTable: InFlight | undefined = undefined;
  private readonly driver: ConnectionDriver;
  private readonly rt: SessionRuntime;
  private pressureHigh = false;
  private finished = false;
  private failureReported = false;
  private outgoing: OutgoingRequests | undefined = undefined;
  private localsMap: Map<string, unknown> | undefined = undefined;
  // Made when first asked for: most sessions (one per modern HTTP exchange) are never awaited.
  private closedPromise: Promise<SessionCloseInfo> | undefined = undefined;
  private resolveClosed: ((info: SessionCloseInfo) => void) | undefined = undefined;
  private closeInfo: SessionCloseInfo | undefined = undefined;

  /** @internal */
  constructor(rt: SessionRuntime, readonly id: string, readonly transport: Transport, parent: AnyActorRef) {
    this.rt = rt;
    const lean = (transport as SingleExchangeTransport).singleExchange === true ? rt.inspection : undefined;
    this.driver = new ConnectionDriver(this, id, rt.clock, rt.limits.drainTimeoutMs, parent, undefined, lean);
  }

  /** Resolves once the session is closed and every handler has settled or been abandoned. */
  get closed(): Promise<SessionCloseInfo> {
    if (this.closedPromise === undefined) {
      const info = this.closeInfo;
      this.closedPromise =
        info !== undefined
          ? Promise.resolve(info)
          : new Promise((resolve) => {
              this.resolveClosed = resolve;
            });
    }
    return this.closedPromise;
  }

  /** The connection actor (its snapshot is the session's state). */
  get actor(): ConnectionActor {
    return this.driver.actor;
  }

  /** `connected`, `draining` or `closed`, read from the connection actor. */
  get state(): ConnectionPhase {
    return this.driver.phase;
  }

  get transportKind(): string {
    return this.transport.kind;
  }

  /** @internal */
  get protocolSessionId(): string | null | undefined {
    return this.transport.protocolSessionId;
  }

  /** Per-session storage for dialects and handlers (created on first use). */
  get locals(): Map<string, unknown> {
    return (this.localsMap ??= new Map());
  }

  /** `locals.get(key)`, without creating the storage. */
  peekLocal(key: string): unknown {
    return this.localsMap?.get(key);
  }

  /** @internal The in-flight table, created with the first request (an idle session has none). */
  get inflight(): InFlight {
    return (this.inflightTable ??= new InFlight(this.rt, this));
  }

  /** Requests whose handlers are running (not yet cancelled). */
  get inFlight(): number {
    return this.inflightTable?.running.size ?? 0;
  }

  /** Handlers cancelled but not yet settled or abandoned. */
  get cancellingCount(): number {
    return this.inflightTable?.cancellingCount ?? 0;
  }

  /** @internal Whether any handler still runs (a draining session with none closes at once). */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** @internal The connection machine closes: cancel every live handler with `reason`. */
  cancelHandlers(reason: CancelReason): void {
    this.inflightTable?.cancelAll(reason);
  }

  /** @internal Whether the connection machine admits new requests. */
  get admits(): boolean {
    return this.driver.admits;
  }

  /** @internal */
  get pressure(): boolean {
    return this.pressureHigh;
  }

  /** @internal */
  get over(): boolean {
    return this.finished || this.driver.phase === 'closed';
  }

  /** @internal Start the actor and the transport. */
  start(): void {
    this.driver.start();
    if (this.finished || this.driver.phase === 'closed') return;
    try {
      this.transport.start(this);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Stop taking requests; finish the in-flight ones (bounded by `drainTimeoutMs`). */
  drain(): void {
    this.driver.drain();
  }

  /** Close now: live handlers are cancelled with `reason` (default `shutdown`). */
  close(reason: CancelReason = 'shutdown'): void {
    this.driver.close(reason);
  }

  // ---- TransportSink -------------------------------------------------------------------------

  onFrame(frame: string): void {
    this.inbound(frame, undefined);
  }

  onParsed(value: unknown, frame: string): void {
    this.inbound(frame, value);
  }

  private inbound(frame: string, parsed: unknown): void {
    if (this.driver.phase === 'closed') return;
    try {
      dispatchFrame(this.rt, this, frame, parsed);
    } catch (error) {
      this.fail(error);
    }
  }

  onMalformed(problem: MalformedFrame): void {
    if (this.driver.phase === 'closed') return;
    this.write(encodeError(null, malformedError(this.rt, problem)));
  }

  onInputEnded(): void {
    this.driver.inputEnded();
  }

  onClosed(detail: string): void {
    this.rt.logger.debug({ sessionId: this.id, detail }, 'transport closed');
    this.driver.outputClosed();
  }

  onPressure(level: 'normal' | 'high'): void {
    this.pressureHigh = level === 'high';
  }

  // ---- SessionHandle ---------------------------------------------------------------------------

  notify(method: string, params?: unknown): boolean {
    return this.write(encodeNotification(method, params));
  }

  /**
   * Send a request to the peer and wait for its response (e.g. MCP `ping` from the server).
   * Rejects with `ERR_SESSION_CLOSED` when the session closes first, `ERR_REQUEST_TIMEOUT` after
   * `timeoutMs`, or the peer's error as a `JsonRpcError`.
   *
   * @example
   * ```ts
   * await session.request('ping', undefined, { timeoutMs: 5000 });
   * ```
   */
  request(method: string, params?: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.over) {
      return Promise.reject(new SupervisorError('ERR_SESSION_CLOSED', `session ${this.id} is closed`));
    }
    this.outgoing ??= new OutgoingRequests(this.rt.clock);
    return this.outgoing.send(this.id, method, params, options.timeoutMs ?? 30_000, (frame) => this.write(frame));
  }

  // ---- what dispatch and the in-flight table use -------------------------------------------------

  /** @internal */
  onResponse(message: JsonRpcResponse): void {
    if (this.outgoing?.onResponse(message) === true) return;
    this.rt.logger.debug({ sessionId: this.id, id: message.id }, 'response to no pending request ignored');
  }

  /** @internal */
  answer(batch: Batch | undefined, frame: string): void {
    if (batch !== undefined) batch.add(frame);
    else this.write(frame);
  }

  /** @internal A handler was released: a draining session with none left closes; a closed one may finish. */
  handlerReleased(): void {
    if (this.driver.phase === 'closed') this.maybeFinish();
    else this.driver.settled();
  }

  /** @internal An `onCancel` listener threw: logged, and the cancel goes on. */
  cancelListenerFailed(error: unknown, record: HandlerRecord): void {
    this.rt.logger.warn({ sessionId: this.id, requestId: record.requestId, method: record.method, err: error }, 'cancel listener threw');
  }

  /**
   * @internal The send guard: every frame goes through here. Blocked (and counted) unless the
   * connection machine may send (its `may-send` tag, published in the same step) and the output works.
   */
  write(frame: string): boolean {
    if (!this.driver.maySend || !this.transport.outputOpen) {
      this.rt.counters.blockedSends += 1;
      this.rt.emit('send.blocked', { sessionId: this.id, state: this.driver.phase });
      return false;
    }
    try {
      this.transport.send(frame);
      return true;
    } catch (error) {
      this.rt.logger.warn({ sessionId: this.id, err: error }, 'transport send threw; treating the output as gone');
      this.onClosed('send threw');
      return false;
    }
  }

  // ---- the end ------------------------------------------------------------------------------

  /**
   * @internal The session's own machinery failed. Close this session alone: the connection machine
   * closes with `session-failed` (handlers cancelled with it, the transport closed with
   * `internal-error`, WebSocket 1011). If the actor itself failed, the driver already blocked
   * everything and {@link actorStopped} cleans up.
   */
  fail(error: unknown): void {
    if (this.finished) return;
    if (!this.failureReported) {
      this.failureReported = true;
      this.rt.sessionFailed(this, error);
    }
    this.driver.fail();
  }

  /** @internal The connection actor stopped: closed, or failed with `error`. */
  actorStopped(error: unknown): void {
    if (error !== undefined) {
      if (!this.failureReported) {
        this.failureReported = true;
        this.rt.sessionFailed(this, error);
      }
      this.inflightTable?.cancelAll('session-failed');
      try {
        this.transport.close('internal-error');
      } catch (closeError) {
        this.rt.logger.error({ sessionId: this.id, err: closeError }, 'transport close failed');
      }
    }
    this.maybeFinish();
  }

  /** @internal The connection machine entered `draining`. */
  drainStarted(reason: DrainReason): void {
    if (this.rt.listens('session.draining')) this.rt.emit('session.draining', { sessionId: this.id, reason });
  }

  /** @internal */
  closeTransport(reason: CancelReason | null): void {
    this.transport.close(closeIntentOf(reason));
  }

  private maybeFinish(): void {
    if (this.finished || this.driver.phase !== 'closed' || this.inflightTable?.empty === false) return;
    this.finished = true;
    this.inflightTable?.stopTimers();
    this.outgoing?.rejectAll(this.id);
    const info: SessionCloseInfo = {
      sessionId: this.id,
      reason: this.driver.closeReason,
      drainReason: this.driver.drainReason,
      failed: this.failureReported,
    };
    this.closeInfo = info;
    this.rt.sessionFinished(this, info);
    this.resolveClosed?.(info);
  }
}
