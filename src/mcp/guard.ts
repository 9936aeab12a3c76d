import type { RequestId } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';
import { ErrorCode, type JsonRpcErrorObject } from '../jsonrpc/errors.js';
import { systemClock } from '../runtime/clock.js';
import { DRAINING_RETRY_AFTER_MS } from '../runtime/dispatch.js';
import { ConnectionDriver, type ConnectionActor } from '../runtime/driver.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { mcpDialect } from './dialect.js';
import { SdkChannel, type GuardChannel, type GuardMessage } from './guard-channel.js';
import { HttpChannel, isSdkHttpTransport } from './guard-http.js';
import { isSdkStdioTransport, processStdioOf, StdioChannel } from './guard-stdio.js';
import type { GuardedTransport, GuardOptions, GuardStats, HttpRequestLike, HttpResponseLike, SdkTransport } from './guard-types.js';

export type { GuardedTransport, GuardOptions, GuardStats, HttpRequestLike, HttpResponseLike, SdkTransport } from './guard-types.js';

const CANCEL = mcpDialect.cancelNotification!;

/**
 * Cancelled ids remembered to block their late answers. The SDK sends none for a request it
 * aborted, so entries are rarely consumed; the bound keeps a long session's memory flat.
 */
const MAX_CANCELLED_IDS = 4096;

const isResponse = (m: GuardMessage): boolean => m.method === undefined && ('result' in m || 'error' in m);
const isRequest = (m: GuardMessage): boolean => typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number');

/**
 * Harden an official-SDK MCP server's transport — `@modelcontextprotocol/sdk` 1.x or
 * `@modelcontextprotocol/server` 2.x — with this library's connection driver, without touching the
 * server. The driver's connection machine decides admission, the send gate, the drain and the close;
 * the guard keeps what is SDK-specific:
 * - it tracks the in-flight request ids; a duplicate in-flight id is refused (−32003, `id: null`), a
 *   request while draining gets −32000;
 * - the input ending (stdin EOF) starts a bounded drain: answers still go out, and after
 *   `drainTimeoutMs` the rest are cancelled (answered −32800) and the session closes;
 * - every cancel is delivered to the SDK as `notifications/cancelled` with the reason, so each
 *   handler's `extra.signal` aborts; the output going away (EPIPE) cancels with `transport-closed`;
 * - after the close every send is blocked and counted, never thrown; so is a response to a request
 *   the client cancelled (also for request id 0, which SDK 1.32 does not cancel).
 *
 * Stdio (an SDK `StdioServerTransport`, or any transport with the `stdio` option): the guard speaks
 * on the streams itself through this library's stdio transport and never starts the SDK's, so an
 * unreadable line (invalid UTF-8, not JSON, not JSON-RPC) is answered with `id: null` (−32700 /
 * −32600) and EOF keeps the output writable on both SDK lines. A `StdioServerTransport` built
 * without arguments means `process.stdin` / `process.stdout` (checked once by starting and closing
 * it); one built over other streams needs them as `stdio: { input, output }`.
 *
 * Streamable HTTP (SDK 1.x `StreamableHTTPServerTransport`, requests handed to
 * `guarded.handleRequest`): an answer whose HTTP exchange is gone is blocked and counted, and a
 * session with nothing in flight and no exchange open for `idleTimeoutMs` closes.
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

function channelFor(inner: SdkTransport, options: GuardOptions, logger: Logger): GuardChannel {
  if (options.stdio !== undefined) return new StdioChannel(options.stdio, options.maxLineBytes);
  if (isSdkStdioTransport(inner)) return new StdioChannel(() => processStdioOf(inner), options.maxLineBytes);
  if (isSdkHttpTransport(inner)) return new HttpChannel(inner, options.clock ?? systemClock, logger, options.idleTimeoutMs ?? 300_000);
  return new SdkChannel(inner);
}

class Guard implements GuardedTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: any, extra?: any) => void) | undefined;
  readonly closed: Promise<GuardStats>;
  private readonly driver: ConnectionDriver;
  private readonly channel: GuardChannel;
  private readonly logger: Logger;
  private readonly inFlight = new Map<RequestId, string>();
  private readonly cancelledIds = new Set<RequestId>();
  private readonly counts = {
    requests: 0,
    completed: 0,
    blockedSends: 0,
    cancelled: Object.fromEntries(CANCEL_REASONS.map((r) => [r, 0])) as Record<CancelReason, number>,
  };
  private channelClosing = false;
  private notifiedClose = false;
  private resolveClosed!: (stats: GuardStats) => void;

  constructor(private readonly inner: SdkTransport, options: GuardOptions) {
    this.logger = options.logger ?? silentLogger;
    this.channel = channelFor(inner, options, this.logger);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    guardCount += 1;
    const inFlight = this.inFlight;
    this.driver = new ConnectionDriver(
      {
        get busy() {
          return inFlight.size > 0;
        },
        cancelHandlers: (reason) => this.cancelAll(reason),
        closeTransport: () => this.closeChannel(),
        actorStopped: (error) => this.actorStopped(error),
      },
      `guard${guardCount}`,
      options.clock ?? systemClock,
      options.drainTimeoutMs ?? 10_000,
      undefined,
      options.inspect,
    );
    if (this.channel instanceof HttpChannel) {
      this.channel.attach({
        quiet: () => this.driver.phase === 'connected' && inFlight.size === 0,
        idledOut: () => this.driver.drain(),
        blocked: () => {
          this.counts.blockedSends += 1;
        },
      });
    }
  }

  get actor(): ConnectionActor {
    return this.driver.actor;
  }

  get state(): GuardStats['state'] {
    return this.driver.phase;
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  // The SDK's optional transport members, passed through to the transport wrapped (the SDK server
  // calls them on connect and after `initialize`); absent ones stay undefined.
  get setProtocolVersion(): SdkTransport['setProtocolVersion'] {
    return this.innerMethod('setProtocolVersion');
  }

  get setSupportedProtocolVersions(): SdkTransport['setSupportedProtocolVersions'] {
    return this.innerMethod('setSupportedProtocolVersions');
  }

  get setScopeChallengeResolver(): SdkTransport['setScopeChallengeResolver'] {
    return this.innerMethod('setScopeChallengeResolver');
  }

  get hasPerRequestStream(): boolean {
    return this.inner.hasPerRequestStream === true;
  }

  private innerMethod<K extends 'setProtocolVersion' | 'setSupportedProtocolVersions' | 'setScopeChallengeResolver'>(name: K): SdkTransport[K] {
    const method = this.inner[name] as ((arg: never) => void) | undefined;
    return (method === undefined ? undefined : (arg: never) => method.call(this.inner, arg)) as SdkTransport[K];
  }

  async start(): Promise<void> {
    this.driver.start();
    try {
      await this.startChannel();
    } catch (error) {
      this.driver.close('session-failed');
      throw error;
    }
  }

  private startChannel(): Promise<void> {
    return this.channel.start({
      message: (message, extra) => this.onInbound(message, extra),
      unreadable: (error) => this.reply(null, error),
      inputEnded: () => this.driver.inputEnded(),
      outputGone: (detail) => {
        this.logger.debug({ detail }, 'guard: output gone');
        this.driver.outputClosed();
      },
      error: (error) => this.onerror?.(error),
    });
  }

  async send(message: GuardMessage, options?: unknown): Promise<void> {
    let settled = false;
    if (isResponse(message) && message.id !== undefined && message.id !== null) {
      const id = message.id;
      if (this.cancelledIds.delete(id)) return this.block();
      settled = this.inFlight.delete(id);
      if (settled) this.counts.completed += 1;
    }
    if (!this.driver.maySend || !this.channel.outputOpen) return this.block();
    const sent = this.write(message, options);
    // Answer first, then release: the last answer of a draining session closes it.
    if (settled) this.settled();
    await sent;
  }

  async close(): Promise<void> {
    this.driver.close('shutdown');
    await this.closed;
  }

  drain(): void {
    this.driver.drain();
  }

  async handleRequest(req: HttpRequestLike, res: HttpResponseLike, parsedBody?: unknown): Promise<void> {
    if (!(this.channel instanceof HttpChannel)) throw new TypeError('guardTransport: the wrapped transport has no handleRequest()');
    await this.channel.handleRequest(req, res, parsedBody);
  }

  stats(): GuardStats {
    return {
      state: this.driver.phase,
      inFlight: this.inFlight.size,
      requests: this.counts.requests,
      completed: this.counts.completed,
      cancelled: { ...this.counts.cancelled },
      blockedSends: this.counts.blockedSends,
      closeReason: this.driver.closeReason,
    };
  }

  // ---- inbound ---------------------------------------------------------------------------------

  private onInbound(message: GuardMessage, extra: unknown): void {
    if (this.driver.phase === 'closed') return;
    if (isRequest(message)) {
      const id = message.id as RequestId;
      if (this.inFlight.has(id)) {
        // Never answer with the id of the request still running: that would cross-wire.
        this.reply(null, { code: ErrorCode.DuplicateRequestId, message: 'Duplicate request id', data: { id } });
        return;
      }
      if (!this.driver.admits) {
        this.reply(id, { code: ErrorCode.SessionDraining, message: 'Session is draining', data: { state: this.driver.phase, retryAfterMs: DRAINING_RETRY_AFTER_MS } });
        return;
      }
      this.counts.requests += 1;
      // A fresh request under an id cancelled earlier: its answer is this request's again.
      this.cancelledIds.delete(id);
      this.inFlight.set(id, message.method as string);
      if (this.channel instanceof HttpChannel) this.channel.busy();
    } else if (message.method === CANCEL.method) {
      const id = CANCEL.requestId(message.params);
      const method = id === undefined ? undefined : this.inFlight.get(id);
      if (id !== undefined && method !== undefined && mcpDialect.cancellable?.(method) !== false) {
        this.inFlight.delete(id);
        this.rememberCancelled(id);
        this.counts.cancelled.client += 1;
        this.deliver(message, extra);
        this.settled();
      }
      return;
    }
    this.deliver(message, extra);
  }

  /**
   * Hand a message to the SDK server. A throw from it (a bug in the SDK or in user code) is
   * reported, never let out: it would unwind through the stream's 'data' listener and crash the
   * process, or through the connection machine's action and fail the session.
   */
  private deliver(message: GuardMessage, extra?: unknown): void {
    try {
      this.onmessage?.(message, extra);
    } catch (error) {
      this.logger.error({ err: error, method: message.method }, 'guard: the SDK server threw on an inbound message');
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // ---- what the connection machine's actions do ---------------------------------------------------

  /** Cancel every in-flight request: answered when the dialect says so, and told to the SDK. */
  private cancelAll(reason: CancelReason): void {
    const answer = mcpDialect.responseOnCancel(reason);
    for (const [id] of [...this.inFlight]) {
      this.inFlight.delete(id);
      this.rememberCancelled(id);
      this.counts.cancelled[reason] += 1;
      if (answer !== undefined) this.reply(id, answer);
      // Delivered to the SDK like a client's cancel, so the handler's `extra.signal` aborts.
      this.deliver({ jsonrpc: '2.0', method: CANCEL.method, params: { requestId: id, reason } });
    }
  }

  /**
   * Close the channel on the next turn of the event loop, so the `notifications/cancelled`
   * delivered just before reach the SDK's handlers first: each `extra.signal` aborts with its reason.
   */
  private closeChannel(): void {
    if (this.channelClosing) return;
    this.channelClosing = true;
    setImmediate(() => {
      this.channel
        .close()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'guard: closing the SDK transport failed'))
        .finally(() => this.notifyClosed());
    });
  }

  private actorStopped(error: unknown): void {
    if (error !== undefined) {
      // The driver already closed the gate and admission; cancel what runs, then close.
      this.logger.error({ err: error }, 'guard actor failed; closing the session');
      this.cancelAll('session-failed');
    }
    this.closeChannel();
  }

  private settled(): void {
    this.driver.settled();
    if (this.channel instanceof HttpChannel) this.channel.settled();
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

  private reply(id: RequestId | null, error: JsonRpcErrorObject): void {
    if (!this.driver.maySend || !this.channel.outputOpen) {
      this.counts.blockedSends += 1;
      return;
    }
    void this.write({ jsonrpc: '2.0', id, error }, undefined).catch((failure: unknown) => this.onerror?.(failure as Error));
  }

  /** Write through the channel; it reports an output that is gone, and a close ends the wait. */
  private write(message: GuardMessage, options: unknown): Promise<void> {
    let sending: Promise<void>;
    try {
      sending = this.channel.send(message, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // An SDK send may wait for 'drain', which never comes once the reader is gone.
    return Promise.race([sending, this.closed.then(() => undefined)]);
  }
}
