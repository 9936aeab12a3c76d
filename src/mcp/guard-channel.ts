import type { JsonRpcErrorObject } from '../jsonrpc/errors.js';
import type { SdkTransport } from './guard-types.js';

/** A JSON-RPC message as the SDK hands it over (kept loose: the SDK's own types are not imported). */
export type GuardMessage = { jsonrpc?: string; id?: string | number | null; method?: string; params?: unknown; result?: unknown; error?: unknown };

/**
 * What a channel reports to the guard. `inputEnded` is a half-close (the output still works);
 * `outputGone` means nothing more can be written.
 */
export interface ChannelEvents {
  /** One inbound JSON-RPC message, for the SDK server. */
  message(message: GuardMessage, extra?: unknown): void;
  /** An inbound line the channel could not read: the guard answers it with `id: null`. */
  unreadable(error: JsonRpcErrorObject): void;
  /** The peer will send nothing more. */
  inputEnded(): void;
  /** The output is gone (EPIPE, closed, the SDK transport closed on its own). */
  outputGone(detail: string): void;
  /** An error the SDK transport reported; passed on to the SDK server's `onerror`. */
  error(error: Error): void;
}

/**
 * Where a guard's frames come from and go to. The guard (SDK-generic) decides what may be sent
 * and when the session ends; a channel (stdio or HTTP policy, or the plain SDK transport) only moves
 * messages and reports what happened to its streams.
 */
export interface GuardChannel {
  /** False once the output is gone; the guard's send gate reads it with the machine's. */
  readonly outputOpen: boolean;
  start(events: ChannelEvents): Promise<void>;
  /** Write one message. A failure that means the output is gone is reported, not thrown. */
  send(message: GuardMessage, options: unknown): Promise<void>;
  /** Close (both directions). Idempotent; resolves once closed. */
  close(): Promise<void>;
}

/** Errors that mean the reader of our output is gone. */
const OUTPUT_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/**
 * Whether an error from a write means the output is gone (EPIPE and its kin).
 *
 * @example
 * ```ts
 * isOutputGone(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })); // true
 * ```
 */
export function isOutputGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && OUTPUT_GONE.has(code);
}

/**
 * The plain channel: the SDK transport itself moves the messages (in-memory pairs, custom
 * transports, and the base of the HTTP policy). It closing on its own means its output is gone.
 */
export class SdkChannel implements GuardChannel {
  protected events: ChannelEvents | undefined;
  private open = true;
  private closing: Promise<void> | undefined;

  constructor(protected readonly inner: SdkTransport) {}

  get outputOpen(): boolean {
    return this.open;
  }

  async start(events: ChannelEvents): Promise<void> {
    this.events = events;
    this.inner.onmessage = (message: GuardMessage, extra?: unknown) => events.message(message, extra);
    this.inner.onerror = (error: Error) => this.innerError(error);
    this.inner.onclose = () => {
      if (this.closing !== undefined) return;
      this.open = false;
      events.outputGone('the SDK transport closed');
    };
    await this.inner.start();
  }

  async send(message: GuardMessage, options: unknown): Promise<void> {
    try {
      await this.inner.send(message, options);
    } catch (error) {
      await this.sendFailed(error);
    }
  }

  /** An error the SDK transport reported on its own. */
  protected innerError(error: Error): void {
    this.events?.error(error);
  }

  /** A send the SDK transport refused: output gone (reported) or a real error (rethrown). */
  protected sendFailed(error: unknown): Promise<void> {
    if (!isOutputGone(error)) return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    this.gone(String((error as { code?: unknown }).code));
    return Promise.resolve();
  }

  protected gone(detail: string): void {
    if (!this.open) return;
    this.open = false;
    this.events?.outputGone(detail);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.open = false;
      await this.inner.close();
    })();
    return this.closing;
  }
}
