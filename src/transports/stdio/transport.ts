import { SupervisorError } from '../../jsonrpc/errors.js';
import type { CloseIntent, Transport, TransportSink } from '../types.js';
import { LineSplitter } from './line-splitter.js';

/**
 * Options of {@link createStdioTransport}.
 *
 * @example
 * ```ts
 * const options: StdioTransportOptions = { input: process.stdin, output: process.stdout, maxLineBytes: 1024 * 1024 };
 * ```
 */
export interface StdioTransportOptions {
  /** Where requests come from, one JSON message per line. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where answers go, one JSON message per line. Default `process.stdout`. */
  output?: NodeJS.WritableStream;
  /** Longest accepted line in bytes; a longer one gets one error and is skipped. Default 4 MiB. */
  maxLineBytes?: number;
  /**
   * Bytes the reader may leave unread: when the output holds more than this after a write, the
   * output counts as gone (`output overloaded`) and nothing more is queued, so memory stays
   * bounded when the peer keeps sending but never reads. Pressure `high` starts far earlier (at the
   * stream's own high-water mark). Default 64 MiB.
   */
  maxBufferedBytes?: number;
}

/**
 * A transport over a pair of byte streams speaking newline-delimited JSON (MCP's stdio framing).
 *
 * @example
 * ```ts
 * const transport = createStdioTransport();
 * transport.writesAfterClose; // 0: nothing was offered after the output closed
 * ```
 */
export interface StdioTransport extends Transport {
  readonly kind: 'stdio';
  /** Frames offered after the output closed (dropped). Invariant 1 says this stays 0. */
  readonly writesAfterClose: number;
  /** Bytes of the partial line held right now (bounded by `maxLineBytes`). */
  readonly bufferedLineBytes: number;
}

/**
 * The default line cap: 4 MiB, the same as the supervisor's `maxMessageBytes`.
 *
 * @example
 * ```ts
 * createStdioTransport({ maxLineBytes: DEFAULT_MAX_LINE_BYTES / 4 });
 * ```
 */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * The default cap on unread output: 64 MiB.
 *
 * @example
 * ```ts
 * createStdioTransport({ maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES / 8 });
 * ```
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

type Emitter = NodeJS.EventEmitter;

// One inert 'error' listener per stream stays after a transport lets go of it: after EPIPE, node keeps
// `process.stdout.writable === true` and every later write (a stray console.log) emits 'error' again,
// which would kill the process without a listener.
const guarded = new WeakSet<Emitter>();
const swallow = (): void => {};
function guard(stream: Emitter): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', swallow);
}

// The input streams a transport reads (or will read once started): two readers of one stdin would
// each get some of the lines. Released when the transport stops reading.
const readers = new WeakSet<Emitter>();

// The flushes queued for this tick, across transports. A process that exits in the tick of a send
// still writes it (stdout on a pipe or file writes synchronously): one 'exit' listener for the whole
// process, however many transports it starts, so Node never warns of a listener leak.
const awaitingFlush = new Set<() => void>();
let exitHooked = false;
function flushAtExit(flush: () => void): void {
  awaitingFlush.add(flush);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const queued of awaitingFlush) queued();
  });
}

const toBytes = (chunk: unknown): Uint8Array =>
  chunk instanceof Uint8Array ? chunk : Buffer.from(String(chunk), 'utf8');

const describe = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
};

class StdioTransportImpl implements StdioTransport {
  readonly kind = 'stdio' as const;
  private sink: TransportSink | undefined = undefined;
  private open = true;
  private closed = false;
  private inputDone = false;
  private pressured = false;
  private dropped = 0;
  private pending = '';
  private flushQueued = false;
  private readonly splitter: LineSplitter;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    maxLineBytes: number,
    private readonly maxBufferedBytes: number,
  ) {
    if (readers.has(input)) {
      throw new SupervisorError('ERR_TRANSPORT_IN_USE', 'this input stream already has a transport reading it; a stream carries one session');
    }
    readers.add(input);
    this.splitter = new LineSplitter(maxLineBytes, {
      line: (text) => {
        if (!this.closed) this.sink?.onFrame(text);
      },
      malformed: (problem) => {
        if (!this.closed) this.sink?.onMalformed(problem);
      },
    });
  }

  get outputOpen(): boolean {
    return this.open;
  }

  get writesAfterClose(): number {
    return this.dropped;
  }

  get bufferedLineBytes(): number {
    return this.splitter.buffered;
  }

  start(sink: TransportSink): void {
    if (this.sink !== undefined) return;
    this.sink = sink;
    guard(this.output);
    guard(this.input);
    if (this.closed) return;
    this.output.on('error', this.onOutputError);
    this.output.on('close', this.onOutputClose);
    this.output.on('drain', this.onDrain);
    this.input.on('error', this.onInputError);
    this.input.on('end', this.onInputEnd);
    this.input.on('close', this.onInputClose);
    this.input.on('data', this.onData);
    this.input.resume();
    // Streams that were over before the session started never emit 'end' or 'close' again.
    const input = this.input as { readableEnded?: boolean; destroyed?: boolean };
    const output = this.output as { writableEnded?: boolean; destroyed?: boolean };
    if (output.writableEnded === true || output.destroyed === true) this.outputGone('output closed');
    if (input.readableEnded === true || input.destroyed === true) this.inputEnded();
  }

  send(frame: string): void {
    if (!this.open) {
      this.dropped += 1;
      return;
    }
    // Frames answered in the same tick leave in one write (one syscall on a pipe instead of one
    // per frame); the flush runs before any I/O callback, so no frame waits for the event loop.
    this.pending += `${frame}\n`;
    if (this.flushQueued) return;
    this.flushQueued = true;
    flushAtExit(this.flush);
    process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    awaitingFlush.delete(this.flush);
    const data = this.pending;
    this.pending = '';
    if (!this.open || data.length === 0) return;
    const accepted = this.output.write(data);
    if (accepted || !this.open) return;
    if (((this.output as { writableLength?: number }).writableLength ?? 0) > this.maxBufferedBytes) {
      this.outputGone('output overloaded');
    } else if (!this.pressured) {
      this.pressured = true;
      this.sink?.onPressure?.('high');
    }
  };

  close(_intent: CloseIntent): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.stopReading();
    const wasOpen = this.open;
    this.open = false;
    this.output.off('drain', this.onDrain);
    if (wasOpen) {
      // Ends the output after what is queued has been written; the reader sees EOF. On
      // process.stdout this does not close file descriptor 1, and later writes only emit 'error',
      // which the guard swallows.
      try {
        this.output.end();
      } catch {
        // A stream that refuses to end is closed as far as this transport is concerned.
      }
      this.sink?.onClosed('closed by server');
    }
    this.output.off('error', this.onOutputError);
    this.output.off('close', this.onOutputClose);
  }

  // ---- input ------------------------------------------------------------------------------------

  private readonly onData = (chunk: unknown): void => {
    if (this.closed || this.inputDone) return;
    this.splitter.push(toBytes(chunk));
  };

  private readonly onInputEnd = (): void => {
    if (this.closed || this.inputDone) return;
    this.splitter.end();
    this.inputEnded();
  };

  private readonly onInputClose = (): void => {
    // Closed without 'end' (destroyed): whatever partial line there was is incomplete.
    this.inputEnded();
  };

  private readonly onInputError = (): void => {
    this.inputEnded();
  };

  private inputEnded(): void {
    if (this.inputDone) return;
    this.inputDone = true;
    this.stopReading();
    if (!this.closed) this.sink?.onInputEnded();
  }

  private stopReading(): void {
    this.input.off('data', this.onData);
    this.input.off('end', this.onInputEnd);
    this.input.off('close', this.onInputClose);
    this.input.off('error', this.onInputError);
    // A paused pipe is no longer read, so it no longer keeps the process alive.
    this.input.pause();
    readers.delete(this.input);
  }

  // ---- output -----------------------------------------------------------------------------------

  private readonly onOutputError = (error: unknown): void => {
    this.outputGone(`output error: ${describe(error)}`);
  };

  private readonly onOutputClose = (): void => {
    this.outputGone('output closed');
  };

  private readonly onDrain = (): void => {
    if (!this.pressured || !this.open) return;
    this.pressured = false;
    this.sink?.onPressure?.('normal');
  };

  private outputGone(detail: string): void {
    if (!this.open) return;
    this.open = false;
    this.pending = '';
    awaitingFlush.delete(this.flush);
    this.output.off('drain', this.onDrain);
    this.sink?.onClosed(detail);
  }
}

/**
 * Create a transport over stdin/stdout (or any pair of streams) speaking newline-delimited JSON.
 *
 * - Each line is decoded as strict UTF-8 on its own bytes, so characters split across chunks arrive
 *   intact; a line with invalid UTF-8 is reported as `invalid-utf8` (the runtime answers −32700 with
 *   `id: null`) and the session goes on. CRLF line ends and a last line without newline work; blank
 *   lines are ignored.
 * - A line longer than `maxLineBytes` is reported once as `too-large` (−32004) and skipped up to the
 *   next newline without being buffered.
 * - Input `'end'` is a half-close: the session drains and its answers are still written.
 * - An output `'error'` (EPIPE: the reader went away) or `'close'` means the output is gone: the
 *   transport keeps its own closed flag (node leaves `stdout.writable === true` after EPIPE) and
 *   never writes again. An `'error'` listener stays on both streams so the process never crashes.
 * - The frames sent within one tick leave in one `write()` (one syscall on a pipe), flushed on
 *   `process.nextTick`, before the event loop runs any I/O callback; `close()` flushes first.
 * - `write()` returning `false` reports pressure `high` until `'drain'` (the runtime refuses new requests
 *   meanwhile); more than `maxBufferedBytes` left unread counts as output gone.
 * - `close()` stops reading the input and ends the output once what is queued has been written.
 * - One transport per input stream: creating a second one while the first still reads (or has not
 *   started yet) throws `ERR_TRANSPORT_IN_USE`.
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { createStdioTransport } from 'session-supervisor/stdio';
 *
 * const supervisor = createSupervisor({ methods: { ping: () => ({}) } });
 * supervisor.attach(createStdioTransport({ maxLineBytes: 1024 * 1024 }));
 * ```
 */
export function createStdioTransport(options: StdioTransportOptions = {}): StdioTransport {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  for (const [name, value] of [['maxLineBytes', maxLineBytes], ['maxBufferedBytes', maxBufferedBytes]] as const) {
    if (!Number.isFinite(value) || value < 1) {
      throw new SupervisorError('ERR_INVALID_OPTION', `${name} must be a finite number >= 1 (got ${String(value)})`);
    }
  }
  return new StdioTransportImpl(
    options.input ?? process.stdin,
    options.output ?? process.stdout,
    maxLineBytes,
    maxBufferedBytes,
  );
}
