import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { SdkChannel, type GuardMessage } from './guard-channel.js';
import type { HttpRequestLike, HttpResponseLike, SdkTransport } from './guard-types.js';

/** What the HTTP policy asks of its guard. */
export interface HttpGuardHost {
  /** Whether the session is connected with nothing in flight: the idle clock may run. */
  quiet(): boolean;
  /** The session idled out: drain it (it closes at once, nothing being in flight). */
  idledOut(): void;
  /** A send found its HTTP exchange gone: count it as blocked. */
  blocked(): void;
}

/**
 * Whether `transport` is an SDK Streamable HTTP server transport (it takes `handleRequest`).
 */
export function isSdkHttpTransport(transport: object): boolean {
  return typeof (transport as { handleRequest?: unknown }).handleRequest === 'function';
}

/**
 * The Streamable HTTP policy (SDK 1.x `StreamableHTTPServerTransport`, SDK 2.x
 * `NodeStreamableHTTPServerTransport`; requests handed to `guarded.handleRequest`): the SDK transport
 * moves the messages; the policy adds
 * - an answer whose HTTP exchange is gone is blocked and counted, never thrown nor reported as an
 *   error — the session itself lives on. SDK 1.x throws from `send` ("No connection established");
 *   SDK 2.x reports it through `onerror` from within `send` ("… is undeliverable") and resolves;
 *   an error reported while a response is being handed over is that response's;
 * - a session with nothing in flight and no exchange open for `idleTimeoutMs` drains (a client that
 *   went away without a DELETE).
 */
export class HttpChannel extends SdkChannel {
  private openExchanges = 0;
  private idleTimer: unknown = undefined;
  private host: HttpGuardHost | undefined;
  /** True while a response is handed to the SDK transport (its synchronous part). */
  private handingOver = false;

  constructor(
    inner: SdkTransport,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly idleTimeoutMs: number,
  ) {
    super(inner);
  }

  /** Bind the guard (before `start`). */
  attach(host: HttpGuardHost): void {
    this.host = host;
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

  /** A request came in: the session is not idle. */
  busy(): void {
    this.stopIdleTimer();
  }

  /** Something settled: start the idle clock if nothing else runs. */
  settled(): void {
    this.armIdleTimer();
  }

  override async send(message: GuardMessage, options: unknown): Promise<void> {
    let sending: Promise<void>;
    this.handingOver = message.method === undefined;
    try {
      sending = this.inner.send(message, options);
    } catch (error) {
      return this.sendFailed(error);
    } finally {
      this.handingOver = false;
    }
    try {
      await sending;
    } catch (error) {
      await this.sendFailed(error);
    }
  }

  protected override innerError(error: Error): void {
    if (this.handingOver) void this.sendFailed(error);
    else super.innerError(error);
  }

  protected override sendFailed(error: unknown): Promise<void> {
    // The exchange this message belonged to is gone; the session itself lives on.
    this.logger.debug({ err: error }, 'guard: send on a closed HTTP exchange blocked');
    this.host?.blocked();
    return Promise.resolve();
  }

  override close(): Promise<void> {
    this.stopIdleTimer();
    return super.close();
  }

  private armIdleTimer(): void {
    if (this.idleTimeoutMs <= 0 || this.idleTimer !== undefined || this.openExchanges > 0) return;
    if (this.host?.quiet() !== true) return;
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined;
      this.logger.debug({ idleTimeoutMs: this.idleTimeoutMs }, 'guard: session idle, closing it');
      this.host?.idledOut();
    }, this.idleTimeoutMs);
  }

  private stopIdleTimer(): void {
    if (this.idleTimer !== undefined) this.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
