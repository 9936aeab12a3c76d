import { createActor, type Actor } from 'xstate';
import { connectionMachine, connectionPhase } from '../../machines/connection.js';
import type { RequestId } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';
import { ErrorCode } from '../jsonrpc/errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { mcpDialect } from './dialect.js';
import { sdkStdioStreams, watchStdio, isOutputGone, type StdioStreams } from './guard-stdio.js';
import type { GuardedTransport, GuardOptions, GuardStats, HttpRequestLike, HttpResponseLike, SdkTransport } from './guard-types.js';

export type { GuardedTransport, GuardOptions, GuardStats, HttpRequestLike, HttpResponseLike, SdkTransport } from './guard-types.js';
type Message = { id?: RequestId | null; method?: string; params?: unknown; result?: unknown; error?: unknown };

const CANCEL = mcpDialect.cancelNotification!;

/**
 * Cancelled ids remembered to block their late answers. The SDK sends none for a request it
 * aborted, so entries are rarely consumed; the bound keeps a long session's memory flat.
 */
const MAX_CANCELLED_IDS = 4096;

const isResponse = (m: Message): boolean => m.method === undefined && ('result' in m || 'error' in m);
const isRequest = (m: Message): boolean => typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number');

/**
 * Harden an official-SDK server transport (stdio or Streamable HTTP) with this library's connection machine,
 * without touching the server:
 * - it tracks the in-flight request ids;
 * - the input ending (stdin EOF) starts a bounded drain: answers still go out, and after
 *   `drainTimeoutMs` the rest are cancelled (answered −32800) and the session closes;
 * - the output going away (EPIPE, stdout closed) delivers `notifications/cancelled` for every
 *   in-flight request to the SDK, so each handler's `extra.signal` aborts; EPIPE is caught;
 * - after the close every send is blocked and counted, never thrown; so is a response to a request
 *   the client cancelled (also for request id 0, which SDK 1.32 does not cancel);
 * - Streamable HTTP (requests handed to `guarded.handleRequest`): an answer whose HTTP exchange is
 *   gone is blocked and counted, and a session with nothing in flight and no exchange open for
 *   `idleTimeoutMs` closes (a client that left without a DELETE).
 *
 * @example
 * ```ts
 * import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
 * import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
 * import { guardTransport } from 'session-supervisor/mcp';
 *
 * const server = new McpServer({ name: 'legacy', version: '1.0.0' });
 * await server.connect(guardTransport(new StdioServerTransport(), { drainTimeoutMs: 5000 }));
 * ```
 */
export function guardTransport(inner: SdkTransport, options: GuardOptions = {}): GuardedTransport {
  return new Guard(inner, options);
}

let guardCount = 0;

class Guard implements GuardedTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: any, extra?: any) => void) | undefined;
  readonly actor: Actor<typeof connectionMachine>;
  readonly closed: Promise<GuardStats>;
  state: 'connected' | 'draining' | 'closed' = 'connected';
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly drainTimeoutMs: number;
  private readonly streams: StdioStreams | undefined;
  private readonly inFlight = new Map<RequestId, string>();
  private readonly cancelledIds = new Set<RequestId>();
  private readonly counts = {
    requests: 0,
    completed: 0,
    blockedSends: 0,
    cancelled: Object.fromEntries(CANCEL_REASONS.map((r) => [r, 0])) as Record<CancelReason, number>,
  };
  private maySend = true;
  private outputOpen = true;
  private drainTimer: unknown = undefined;
  private readonly http: boolean;
  private readonly idleTimeoutMs: number;
  private idleTimer: unknown = undefined;
  private openExchanges = 0;
  private unwatch: (() => void) | undefined;
  private innerClosing = false;
  private notifiedClose = false;
  private resolveClosed!: (stats: GuardStats) => void;

  constructor(private readonly inner: SdkTransport, options: GuardOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    this.streams = options.stdio ?? sdkStdioStreams(inner);
    this.http = this.streams === undefined && typeof (inner as { handleRequest?: unknown }).handleRequest === 'function';
    this.idleTimeoutMs = options.idleTimeoutMs ?? (this.http ? 300_000 : 0);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    const logic = connectionMachine.provide({
      actions: {
        startDrainTimer: () => {
          this.drainTimer = this.clock.setTimeout(() => {
            this.drainTimer = undefined;
            this.actor.send({ type: 'timer.drainDeadline' });
          }, this.drainTimeoutMs);
        },
        stopDrainTimer: () => this.stopDrainTimer(),
        // Runs inside the transition, before `state` reads `draining`: check the map directly.
        drainStarted: () => {
          if (this.inFlight.size === 0) this.actor.send({ type: 'handlers.idle' });
        },
        blockSends: () => {
          this.maySend = false;
        },
        cancelHandlers: (_, params) => this.cancelAll(params.reason),
        closeTransport: () => this.closeInner(),
      },
    });
    guardCount += 1;
    this.actor = createActor(logic, {
      id: `guard${guardCount}`,
      input: { sessionId: `guard${guardCount}` },
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    });
    this.actor.subscribe({
      next: (snapshot) => {
        this.state = connectionPhase(snapshot);
        if (snapshot.status === 'done') this.finish();
      },
      error: (error) => {
        this.logger.error({ err: error }, 'guard actor failed; closing the session');
        this.maySend = false;
        this.cancelAll('session-failed');
        this.closeInner();
        this.finish();
      },
    });
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  get setProtocolVersion(): ((version: string) => void) | undefined {
    const set = this.inner.setProtocolVersion;
    return set === undefined ? undefined : (version: string) => set.call(this.inner, version);
  }

  async start(): Promise<void> {
    this.inner.onmessage = (message: Message, extra?: unknown) => this.onInbound(message, extra);
    this.inner.onerror = (error: Error) => this.onerror?.(error);
    this.inner.onclose = () => this.onInnerClosed();
    this.actor.start();
    if (this.streams !== undefined) {
      this.unwatch = watchStdio(this.streams, {
        inputEnded: () => this.actor.send({ type: 'transport.inputEnded' }),
        outputGone: (detail) => this.outputGone(detail),
      });
    }
    await this.inner.start();
  }

  async send(message: Message, options?: unknown): Promise<void> {
    if (isResponse(message) && message.id !== undefined && message.id !== null) {
      const id = message.id;
      if (this.cancelledIds.delete(id)) return this.block();
      if (this.inFlight.delete(id)) this.counts.completed += 1;
    }
    if (!this.maySend || !this.outputOpen) return this.block();
    const sent = this.write(message, options);
    // Answer first, then release: the last answer of a draining session closes it.
    this.checkIdle();
    await sent;
  }

  async close(): Promise<void> {
    if (this.state !== 'closed') this.actor.send({ type: 'session.close', reason: 'shutdown' });
    await this.closed;
  }

  drain(): void {
    this.actor.send({ type: 'session.drain' });
  }

  async handleRequest(req: HttpRequestLike, res: HttpResponseLike, parsedBody?: unknown): Promise<void> {
    const handle = (this.inner as { handleRequest?: (req: unknown, res: unknown, body?: unknown) => Promise<void> }).handleRequest;
    if (handle === undefined) throw new TypeError('guardTransport: the wrapped transport has no handleRequest()');
    this.openExchanges += 1;
    this.stopIdleTimer();
    let ended = false;
    res.once('close', () => {
      if (ended) return;
      ended = true;
      this.openExchanges -= 1;
      this.armIdleTimer();
    });
    await handle.call(this.inner, req, res, parsedBody);
  }

  stats(): GuardStats {
    return {
      state: this.state,
      inFlight: this.inFlight.size,
      requests: this.counts.requests,
      completed: this.counts.completed,
      cancelled: { ...this.counts.cancelled },
      blockedSends: this.counts.blockedSends,
      closeReason: this.actor.getSnapshot().context.closeReason,
    };
  }

  // ---- inbound ---------------------------------------------------------------------------------

  private onInbound(message: Message, extra: unknown): void {
    if (this.state === 'closed') return;
    if (isRequest(message)) {
      const id = message.id as RequestId;
      if (this.inFlight.has(id)) {
        this.reply(null, { code: ErrorCode.DuplicateRequestId, message: 'Duplicate request id', data: { id } });
        return;
      }
      if (this.state !== 'connected') {
        this.reply(id, { code: ErrorCode.SessionDraining, message: 'Session is draining', data: { state: this.state } });
        return;
      }
      this.counts.requests += 1;
      // A fresh request under an id cancelled earlier: its answer is this request's again.
      this.cancelledIds.delete(id);
      this.inFlight.set(id, message.method as string);
      this.stopIdleTimer();
    } else if (message.method === CANCEL.method) {
      const id = CANCEL.requestId(message.params);
      const method = id === undefined ? undefined : this.inFlight.get(id);
      if (id !== undefined && method !== undefined && mcpDialect.cancellable?.(method) !== false) {
        this.inFlight.delete(id);
        this.rememberCancelled(id);
        this.counts.cancelled.client += 1;
        this.onmessage?.(message, extra);
        this.checkIdle();
      }
      return;
    }
    this.onmessage?.(message, extra);
  }

  // ---- lifecycle actions -------------------------------------------------------------------------

  private cancelAll(reason: CancelReason): void {
    const answer = mcpDialect.responseOnCancel(reason);
    for (const [id] of [...this.inFlight]) {
      this.inFlight.delete(id);
      this.rememberCancelled(id);
      this.counts.cancelled[reason] += 1;
      if (answer !== undefined && this.maySend && this.outputOpen) this.reply(id, answer);
      // Delivered to the SDK like a client's cancel, so the handler's `extra.signal` aborts.
      this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
    }
  }

  private checkIdle(): void {
    if (this.state === 'draining' && this.inFlight.size === 0) this.actor.send({ type: 'handlers.idle' });
    else this.armIdleTimer();
  }

  /** Nothing in flight, no exchange open: the session idles out after `idleTimeoutMs` (a drain). */
  private armIdleTimer(): void {
    if (this.idleTimeoutMs <= 0 || this.idleTimer !== undefined || this.state !== 'connected') return;
    if (this.inFlight.size > 0 || this.openExchanges > 0) return;
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined;
      this.logger.debug({ idleTimeoutMs: this.idleTimeoutMs }, 'guard: session idle, closing it');
      this.actor.send({ type: 'session.drain' });
    }, this.idleTimeoutMs);
  }

  private stopIdleTimer(): void {
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private stopDrainTimer(): void {
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
  }

  private outputGone(detail: string): void {
    if (!this.outputOpen) return;
    this.outputOpen = false;
    this.logger.debug({ detail }, 'guard: output gone');
    this.actor.send({ type: 'transport.closed' });
  }

  /**
   * Close the SDK transport on the next turn of the event loop, so the `notifications/cancelled`
   * delivered just before reach the SDK's handlers first: each `extra.signal` aborts with its reason.
   */
  private closeInner(): void {
    if (this.innerClosing) return;
    this.innerClosing = true;
    this.unwatch?.();
    this.unwatch = undefined;
    setImmediate(() => {
      this.inner
        .close()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'guard: closing the SDK transport failed'))
        .finally(() => this.notifyClosed());
    });
  }

  private onInnerClosed(): void {
    if (this.innerClosing) {
      this.notifyClosed();
      return;
    }
    // The SDK transport closed on its own (not through us): its output is gone for us too.
    this.outputOpen = false;
    this.actor.send({ type: 'transport.closed' });
  }

  private finish(): void {
    this.stopDrainTimer();
    this.stopIdleTimer();
    this.closeInner();
  }

  private notifyClosed(): void {
    if (this.notifiedClose) return;
    this.notifiedClose = true;
    this.resolveClosed(this.stats());
    try {
      this.onclose?.();
    } catch (error) {
      this.logger.warn({ err: error }, 'guard: onclose threw');
    }
  }

  // ---- the send guard ----------------------------------------------------------------------------

  /** Remember a cancelled id (its late answer is blocked); the oldest are forgotten past a bound. */
  private rememberCancelled(id: RequestId): void {
    this.cancelledIds.add(id);
    if (this.cancelledIds.size > MAX_CANCELLED_IDS) {
      for (const oldest of this.cancelledIds) {
        this.cancelledIds.delete(oldest);
        break;
      }
    }
  }

  private block(): Promise<void> {
    this.counts.blockedSends += 1;
    return Promise.resolve();
  }

  private reply(id: RequestId | null, error: { code: number; message: string; data?: unknown }): void {
    if (!this.maySend || !this.outputOpen) {
      this.counts.blockedSends += 1;
      return;
    }
    void this.write({ jsonrpc: '2.0', id, error } as Message, undefined);
  }

  /** Write through the SDK transport; a failure that means the output is gone is caught here. */
  private write(message: Message, options: unknown): Promise<void> {
    let sending: Promise<void>;
    try {
      sending = this.inner.send(message, options);
    } catch (error) {
      return this.writeFailed(error);
    }
    // The SDK's stdio send waits for 'drain', which never comes once the reader is gone.
    return Promise.race([sending, this.closed.then(() => undefined)]).catch((error: unknown) => this.writeFailed(error));
  }

  private writeFailed(error: unknown): Promise<void> {
    if (this.http) {
      // Streamable HTTP: the exchange this message belonged to is gone (the SDK throws "No
      // connection established"); the session itself lives on. Blocked and counted, never thrown.
      this.logger.debug({ err: error }, 'guard: send on a closed HTTP exchange blocked');
      this.counts.blockedSends += 1;
      return Promise.resolve();
    }
    if (isOutputGone(error)) {
      this.outputGone(String((error as { code?: unknown }).code));
      return Promise.resolve();
    }
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
