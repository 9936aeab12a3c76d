import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloseIntent, Transport, TransportSink } from '../types.js';
import { exchangeOutbound } from './frames.js';
import type { ResolvedHttpOptions } from './options.js';
import { ResponseStream } from './response-stream.js';

/**
 * What the exchange knows of its body: whether it expects an answer, and (optionally) the body
 * already parsed, so the session does not parse it again.
 *
 * @example
 * ```ts
 * const shape: ExchangeShape = { expectsAnswer: true, message: JSON.parse(body) };
 * ```
 */
export interface ExchangeShape {
  readonly expectsAnswer: boolean;
  /** The body as parsed JSON (`JSON.parse(body)`); handed to the session as it is. */
  readonly message?: unknown;
}

/**
 * The transport of one modern (2026-07-28, stateless) Streamable HTTP exchange: one POST, one
 * session. Its body is the session's only input; its response is the session's only output.
 *
 * - The answer (the response to the POST's request, or the batch answer) ends the response and the
 *   input (the session then closes idle); JSON when it is the first frame, else the last SSE event.
 * - A notification or a request going out before the answer switches the response to SSE.
 * - A POST that expects no answer (notifications, responses) → `202 Accepted`.
 * - The client closing the response first is `onClosed`: the connection machine closes and every
 *   live handler is cancelled with `transport-closed` (the spec's "MUST be treated as
 *   cancellation"); the send guard then blocks and counts every later write.
 *
 * @example
 * ```ts
 * const transport = new HttpExchangeTransport(request, response, body, { expectsAnswer: true }, options);
 * supervisor.attach(transport);
 * ```
 */
export class HttpExchangeTransport implements Transport {
  readonly kind = 'streamable-http' as const;
  /** One POST, one answer: its session runs on the lean connection actor. */
  readonly singleExchange = true as const;
  /** Which spec era this exchange speaks. */
  readonly era = 'modern' as const;
  /** A modern exchange belongs to no protocol session. */
  readonly protocolSessionId = null;
  private readonly stream: ResponseStream;
  private sink: TransportSink | undefined = undefined;
  private answered = false;
  private closeReported = false;
  private inputEnded = false;
  private finished = false;
  /** Inside `start()`: an end of input is reported when it returns, not from a microtask. */
  private starting = false;

  constructor(
    /** The HTTP request (headers, auth, …) for dialects and handlers that need it. */
    readonly request: IncomingMessage,
    response: ServerResponse,
    private readonly body: string,
    private readonly shape: ExchangeShape,
    private readonly options: Pick<ResolvedHttpOptions, 'keepAliveMs' | 'maxBufferedBytes' | 'timers' | 'errorStatus'>,
    private readonly onFinished?: (exchange: HttpExchangeTransport) => void,
  ) {
    // No close listener yet: most exchanges are answered within `start()` and never need one.
    this.stream = new ResponseStream(response, options);
  }

  get outputOpen(): boolean {
    return !this.closeReported && this.stream.open;
  }

  /** Frames offered after the response ended or the client left (dropped here, behind the runtime's guard). */
  get writesAfterClose(): number {
    return this.stream.writesAfterClose;
  }

  /** Whether the client closed the response before it was answered. */
  get aborted(): boolean {
    return this.closeReported;
  }

  /** The `MCP-Protocol-Version` header of the POST, if any. */
  get protocolVersion(): string | undefined {
    const value = this.request.headers['mcp-protocol-version'];
    return typeof value === 'string' ? value.trim() : undefined;
  }

  /** Whether the response switched to SSE. */
  get streaming(): boolean {
    return this.stream.streaming;
  }

  start(sink: TransportSink): void {
    if (this.sink !== undefined) return;
    this.sink = sink;
    if (this.closeReported || !this.stream.open) {
      this.closeReported = true;
      sink.onClosed('response closed before the exchange started');
      return;
    }
    const parsed = this.shape.message;
    this.starting = true;
    try {
      if (parsed !== undefined && sink.onParsed !== undefined) sink.onParsed(parsed, this.body);
      else sink.onFrame(this.body);
      if (!this.answered && !this.shape.expectsAnswer && !this.closeReported) {
        this.answered = true;
        this.stream.accepted();
        this.endInput();
      }
    } finally {
      this.starting = false;
    }
    if (this.inputEnded) {
      // Answered while the body was dispatched (a synchronous handler, a refusal, a 202): the
      // dispatch has returned, so the session may drain and close right here.
      sink.onInputEnded();
      return;
    }
    // The answer comes later: from now on a client closing the response is a cancel.
    this.stream.watch(this.onAbort.bind(this));
  }

  send(frame: string): void {
    if (!this.outputOpen) {
      this.stream.message(frame); // counted as a write after close
      return;
    }
    const outbound = exchangeOutbound(frame);
    if (!outbound.answer) {
      this.stream.message(frame);
      return;
    }
    this.answered = true;
    const code = outbound.errorCode;
    this.stream.answer(frame, code === undefined ? 200 : this.options.errorStatus(code));
    this.endInput();
  }

  close(_intent: CloseIntent): void {
    this.stream.end();
    if (this.finished) return;
    this.finished = true;
    this.onFinished?.(this);
  }

  /** The exchange is answered: nothing more comes in; the session closes once its handlers are released. */
  private endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    // Not from inside the session's own write: in a microtask (or when `start()` returns).
    if (!this.starting) queueMicrotask(() => this.sink?.onInputEnded());
  }

  private onAbort(): void {
    if (this.answered || this.closeReported) return;
    this.closeReported = true;
    this.sink?.onClosed('response closed by the client');
  }
}
