/**
 * How the runtime asks a transport to close. Each transport maps it to its own terms (WebSocket:
 * 1000, 1001, 1011, 1013; stdio: end stdout).
 *
 * @example
 * ```ts
 * transport.close('going-away');
 * ```
 */
export type CloseIntent = 'normal' | 'going-away' | 'internal-error' | 'overloaded';

/**
 * A frame the transport could not turn into text, already dropped by the transport.
 *
 * @example
 * ```ts
 * sink.onMalformed('invalid-utf8');
 * ```
 */
export type MalformedFrame = 'invalid-utf8' | 'too-large';

/**
 * What a transport reports to the runtime. Input ended and output gone are different events:
 * input ended is a half-close (we may still write); closed means nothing can be written any more.
 *
 * @example
 * ```ts
 * const sink: TransportSink = {
 *   onFrame: (text) => console.log(text),
 *   onMalformed: () => {},
 *   onInputEnded: () => {},
 *   onClosed: () => {},
 * };
 * ```
 */
export interface TransportSink {
  /** One complete inbound message as text. */
  onFrame(frame: string): void;
  /**
   * One complete inbound message the transport already parsed as JSON, with its text: the same as
   * `onFrame(frame)` without a second `JSON.parse`. Optional: a transport calls it when the sink
   * has it, else `onFrame`.
   */
  onParsed?(value: unknown, frame: string): void;
  /** An inbound frame that could not become text (the runtime answers with a JSON-RPC error). */
  onMalformed(problem: MalformedFrame): void;
  /** The peer will send nothing more; our output still works. */
  onInputEnded(): void;
  /** The output side is gone (the peer vanished, a write failed, the channel closed). */
  onClosed(detail: string): void;
  /** Backpressure: `high` while the peer reads too slowly; the runtime admits no new requests. */
  onPressure?(level: 'normal' | 'high'): void;
}

/**
 * The one small interface every channel adapts to. Transports move frames and report input ended
 * and closed; they know no JSON-RPC dialect.
 *
 * @example
 * ```ts
 * const { transport } = createMemoryTransportPair();
 * supervisor.attach(transport);
 * ```
 */
export interface Transport {
  /** A short name: `ws`, `stdio`, `memory`, … */
  readonly kind: string;
  /** False once the output side is gone or closed; the send guard reads it. */
  readonly outputOpen: boolean;
  /**
   * The session id the protocol itself carries, for tracing (`mcp.session.id`): a string when the
   * wire names the session (MCP's `Mcp-Session-Id` on Streamable HTTP of the 2025 era), `null` when
   * the protocol has no session here (a stateless exchange of the 2026-07-28 era), absent when the
   * connection itself is the session (stdio, WebSocket: the runtime's session id stands for it).
   */
  readonly protocolSessionId?: string | null;
  /** Start delivering events to the sink (called once by the runtime). */
  start(sink: TransportSink): void;
  /** Write one frame. Called only while `outputOpen`; failures are reported through `onClosed`. */
  send(frame: string): void;
  /** Close the channel (both directions). Idempotent. */
  close(intent: CloseIntent): void;
}
