import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestId } from '../../../machines/handler.js';
import { disconnectAction } from '../../mcp/disconnect-policy.js';
import type { CloseIntent, Transport, TransportSink } from '../types.js';
import { classifyOutbound } from './frames.js';
import type { InboundSummary } from './frames.js';
import type { ResolvedHttpOptions } from './options.js';
import { ResponseStream } from './response-stream.js';
import type { HttpStatsCounter } from './stats.js';

/** One stream of a legacy session: a POST's answer stream or the standalone GET stream. */
interface LegacyStream {
  readonly key: string;
  readonly kind: 'post' | 'get';
  /** The HTTP response carrying it now; `undefined` while the client is away (detached). */
  response: ResponseStream | undefined;
  /** Answers still owed on it (a POST stream ends after the last). */
  pending: number;
  /** Event ids are stored so a client can resume it with `Last-Event-ID`. */
  readonly resumable: boolean;
  /** A batch POST: its answer is one JSON array. */
  readonly batch: boolean;
  /** Progress tokens of its requests (to route `notifications/progress`). */
  readonly tokens: Set<string | number>;
}

let streamCounter = 0;

/** Finished resumable streams a session keeps for a late `Last-Event-ID` (the oldest go first). */
const RESUMABLE_FINISHED_STREAMS = 16;

/**
 * The transport of one legacy (2025-11-25 and before) Streamable HTTP session: one long-lived
 * session that outlives single POSTs. Its outputs are the streams the client opens — each POST's
 * answer stream and the standalone GET stream — and frames are routed among them:
 *
 * - an answer goes to the stream of the POST that carried its request (by JSON-RPC id; `id: null`
 *   to the POST being dispatched); a POST stream ends after its last answer;
 * - a notification or server request goes to the stream of the request whose progress token it
 *   names, else to the POST being dispatched, else to the only POST stream still owed an answer,
 *   else to the GET stream, else to the newest POST stream owed an answer;
 * - a stream the client closed is detached: by the disconnect policy (data,
 *   `disconnectAction('streamable-http', version)`: `continue` before 2026-07-28) its requests run
 *   on, and with an event store their frames are kept for a `GET` with `Last-Event-ID`.
 *
 * The session ends by `DELETE` (drain, then close), the idle reaper, or the supervisor; then every
 * stream ends and `outputOpen` is false.
 *
 * @example
 * ```ts
 * const transport = new LegacySessionTransport(randomUUID(), '2025-11-25', options, stats);
 * supervisor.attach(transport);
 * transport.post(request, response, body, summarizeInbound(JSON.parse(body)));
 * ```
 */
export class LegacySessionTransport implements Transport {
  readonly kind = 'streamable-http' as const;
  readonly era = 'legacy' as const;
  /** The session was deleted, expired or closed: new requests for it get 404. */
  ended = false;
  /** When the session was last busy or touched (ms, `Date.now()`). */
  lastActive = Date.now();
  private sink: TransportSink | undefined = undefined;
  private closed = false;
  private readonly streams = new Map<string, LegacyStream>();
  private readonly byId = new Map<RequestId, LegacyStream>();
  private getStream: LegacyStream | undefined = undefined;
  private dispatching: LegacyStream | undefined = undefined;
  private dropped = 0;
  private readonly finished: LegacyStream[] = [];
  /** The stream of the `initialize` POST while it is being answered. */
  private initializing: LegacyStream | undefined = undefined;
  private readonly onClosedHooks: (() => void)[] = [];

  /** The `Mcp-Session-Id`, for tracing. */
  get protocolSessionId(): string {
    return this.id;
  }

  constructor(
    /** The `Mcp-Session-Id`. */
    readonly id: string,
    /** The protocol version the client asked for in `initialize` (updated from `MCP-Protocol-Version`). */
    public protocolVersion: string | undefined,
    private readonly options: ResolvedHttpOptions,
    private readonly stats: HttpStatsCounter,
  ) {}

  get outputOpen(): boolean {
    return !this.closed;
  }

  /** Frames offered to an ended HTTP response (dropped here; should stay 0). */
  get writesAfterClose(): number {
    let sum = this.dropped;
    for (const stream of this.streams.values()) sum += stream.response?.writesAfterClose ?? 0;
    return sum;
  }

  /** Whether any stream has an open HTTP response. */
  get streaming(): boolean {
    for (const stream of this.streams.values()) if (stream.response?.open === true) return true;
    return false;
  }

  /** Run `fn` once the transport is closed. */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.onClosedHooks.push(fn);
  }

  start(sink: TransportSink): void {
    this.sink ??= sink;
  }

  private newStream(kind: 'post' | 'get', response: ServerResponse, resumable: boolean, batch: boolean): LegacyStream {
    streamCounter += 1;
    const stream: LegacyStream = { key: `st${streamCounter}`, kind, response: undefined, pending: 0, resumable, batch, tokens: new Set() };
    stream.response = this.responseFor(stream, response);
    this.streams.set(stream.key, stream);
    return stream;
  }

  private responseFor(stream: LegacyStream, response: ServerResponse): ResponseStream {
    const out = new ResponseStream(response, {
      headers: { 'Mcp-Session-Id': this.id },
      keepAliveMs: this.options.keepAliveMs,
      maxBufferedBytes: this.options.maxBufferedBytes,
      timers: this.options.timers,
      onAbort: () => this.streamDropped(stream, out),
    });
    return out;
  }

  /** Whether streams of this session can be resumed (an event store, and a client that takes priming events). */
  private get resumable(): boolean {
    return this.options.eventStore !== undefined && (this.protocolVersion ?? '') >= '2025-11-25';
  }

  /** Hand one POST's body to the session; its answers come back on `response`. */
  post(_request: IncomingMessage, response: ServerResponse, text: string, summary: InboundSummary, isInitialize = false): void {
    this.lastActive = Date.now();
    // No priming for `initialize`: there is nothing to resume before the session exists.
    const resumable = !isInitialize && summary.requestIds.length > 0 && this.resumable;
    const stream = this.newStream('post', response, resumable, summary.batch);
    if (isInitialize) this.initializing = stream;
    if (summary.expectsAnswer) stream.pending = 1;
    if (!summary.batch && summary.requestIds.length === 1) {
      const id = summary.requestIds[0]!;
      if (!this.byId.has(id)) this.byId.set(id, stream);
      const token = (summary.params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
      if (typeof token === 'string' || typeof token === 'number') stream.tokens.add(token);
    }
    if (resumable) stream.response?.startSse(this.options.eventStore!.append(stream.key, ''));
    if (summary.method === 'notifications/cancelled') this.cancelledByClient(summary.params);
    this.dispatching = stream;
    try {
      const sink = this.sink;
      if (sink?.onParsed !== undefined && summary.message !== undefined) sink.onParsed(summary.message, text);
      else sink?.onFrame(text);
    } finally {
      this.dispatching = undefined;
    }
    if (stream.pending === 0) this.finishStream(stream);
  }

  /** A client cancel owes no answer (MCP): the stream that carried the request is done with it. */
  private cancelledByClient(params: Record<string, unknown> | undefined): void {
    const requestId = params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    const stream = this.byId.get(requestId);
    if (stream === undefined) return;
    this.byId.delete(requestId);
    stream.pending -= 1;
    if (stream.pending <= 0) this.finishStream(stream);
  }

  /** Open the standalone GET stream; `false` when one is open already (409). */
  openGetStream(response: ServerResponse): boolean {
    this.lastActive = Date.now();
    if (this.getStream?.response?.open === true) return false;
    if (this.getStream !== undefined) this.forget(this.getStream);
    const stream = this.newStream('get', response, this.resumable, false);
    this.getStream = stream;
    stream.response?.startSse(stream.resumable ? this.options.eventStore!.append(stream.key, '') : undefined);
    return true;
  }

  /**
   * Resume a stream after `lastEventId`: replay what it missed on `response`, then carry on there.
   * `'unknown'` when the id is not one of this session's (or was evicted), `'busy'` when the stream
   * has an open response already.
   */
  resume(response: ServerResponse, lastEventId: string): 'ok' | 'unknown' | 'busy' {
    this.lastActive = Date.now();
    const store = this.options.eventStore;
    const replay = store?.replayAfter(lastEventId);
    const stream = replay === undefined ? undefined : this.streams.get(replay.streamKey);
    if (replay === undefined || stream === undefined) return 'unknown';
    if (stream.response?.open === true) return 'busy';
    const out = this.responseFor(stream, response);
    stream.response = out;
    out.startSse();
    for (const event of replay.events) out.message(event.frame, event.id);
    if (stream.kind === 'post' && stream.pending <= 0) out.end();
    return 'ok';
  }

  send(frame: string): void {
    if (this.closed) {
      this.dropped += 1;
      return;
    }
    const kind = classifyOutbound(frame);
    if (kind.kind === 'message') {
      const target = this.messageTarget(frame);
      if (target === undefined) this.stats.undelivered += 1;
      else this.deliver(target, frame, false);
      return;
    }
    let target: LegacyStream | undefined;
    if (kind.kind === 'batch') {
      for (const stream of this.streams.values()) if (stream.batch && stream.pending > 0) target = stream;
    } else if (kind.id !== null && this.byId.has(kind.id)) {
      target = this.byId.get(kind.id);
      this.byId.delete(kind.id);
    } else {
      target = this.dispatching;
    }
    if (target === undefined) {
      this.stats.undelivered += 1;
      return;
    }
    target.pending -= 1;
    const failedInitialize = target === this.initializing && kind.kind === 'answer' && kind.errorCode !== undefined;
    this.deliver(target, frame, target.pending <= 0);
    // `initialize` failed: there is no session to keep.
    if (failedInitialize) this.end();
  }

  private messageTarget(frame: string): LegacyStream | undefined {
    if (frame.includes('"progressToken"')) {
      const token = (JSON.parse(frame) as { params?: { progressToken?: unknown } }).params?.progressToken;
      for (const stream of this.streams.values()) {
        if (stream.pending > 0 && (typeof token === 'string' || typeof token === 'number') && stream.tokens.has(token)) return stream;
      }
    }
    if (this.dispatching !== undefined) return this.dispatching;
    let owed: LegacyStream | undefined;
    let count = 0;
    for (const stream of this.streams.values()) {
      if (stream.kind === 'post' && stream.pending > 0) {
        owed = stream;
        count += 1;
      }
    }
    if (count === 1) return owed;
    if (this.getStream !== undefined && (this.getStream.response?.open === true || this.getStream.resumable)) return this.getStream;
    return owed;
  }

  private deliver(stream: LegacyStream, frame: string, final: boolean): void {
    const eventId = stream.resumable ? this.options.eventStore!.append(stream.key, frame) : undefined;
    const out = stream.response;
    if (out?.open === true) {
      if (final && stream.kind === 'post') out.answer(frame, 200, eventId);
      else out.message(frame, eventId);
    } else if (!stream.resumable) {
      this.stats.undelivered += 1;
    }
    if (final && stream.kind === 'post') this.finishStream(stream);
  }

  /** A POST stream owes nothing more: end its response; forget it once the client has it all. */
  private finishStream(stream: LegacyStream): void {
    if (stream === this.initializing) this.initializing = undefined;
    const out = stream.response;
    if (out !== undefined && out.open) {
      if (stream.pending <= 0 && !out.streaming) out.accepted();
      out.end();
    }
    if (!stream.resumable) {
      this.forget(stream);
      return;
    }
    // A resumable stream keeps its events for a while even when its response ended normally: the
    // client may have gone away before the last bytes reached it. The newest few are kept.
    this.finished.push(stream);
    while (this.finished.length > RESUMABLE_FINISHED_STREAMS) this.forget(this.finished.shift()!);
  }

  private forget(stream: LegacyStream): void {
    this.streams.delete(stream.key);
    if (this.getStream === stream) this.getStream = undefined;
    if (stream.resumable) this.options.eventStore?.drop(stream.key);
  }

  /** The client closed a stream's response before it ended. */
  private streamDropped(stream: LegacyStream, out: ResponseStream): void {
    if (stream.response !== out) return;
    this.lastActive = Date.now();
    stream.response = undefined;
    if (disconnectAction('streamable-http', this.protocolVersion, this.options.disconnectPolicy) === 'cancel') {
      this.sink?.onClosed('stream closed by the client');
      return;
    }
    // Continue: the requests run on. Without an event store nothing of this stream can be resumed.
    if (!stream.resumable && (stream.kind === 'get' || stream.pending <= 0)) this.forget(stream);
  }

  /** `DELETE` or the idle reaper: no new requests; the runtime drains, then closes the transport. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    queueMicrotask(() => this.sink?.onInputEnded());
  }

  close(_intent: CloseIntent): void {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    for (const stream of [...this.streams.values()]) {
      stream.response?.end();
      this.forget(stream);
    }
    this.byId.clear();
    for (const fn of this.onClosedHooks.splice(0)) fn();
  }
}
