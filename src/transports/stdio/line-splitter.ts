import type { MalformedFrame } from '../types.js';

/**
 * Where a {@link LineSplitter} delivers what it finds.
 *
 * @example
 * ```ts
 * const sink: LineSink = { line: (text) => console.log(text), malformed: (problem) => console.warn(problem) };
 * ```
 */
export interface LineSink {
  /** One complete line as text, without its `\n` or `\r\n`. Empty and blank lines are not delivered. */
  line(text: string): void;
  /** A line that could not become text: invalid UTF-8 or longer than the cap. Reported once per line. */
  malformed(problem: MalformedFrame): void;
}

const NEWLINE = 0x0a;
const BLANK = /^[\s]*$/;

/**
 * Splits a byte stream into newline-delimited lines and decodes each one as strict UTF-8.
 *
 * - Lines are split on the byte `0x0A`, so a multi-byte character split across chunks arrives intact
 *   (each line's bytes go through a streaming `TextDecoder('utf-8', { fatal: true })`).
 * - A line with invalid UTF-8 is reported once (`invalid-utf8`) and the rest of it is skipped.
 * - A line longer than `maxLineBytes` is reported once (`too-large`) and the rest of it is skipped up
 *   to the next newline without being kept: memory stays bounded by the cap, whatever the line length.
 * - A trailing `\r` (CRLF) is removed; blank lines are ignored; {@link LineSplitter.end} delivers a
 *   last line that has no newline.
 *
 * @example
 * ```ts
 * const splitter = new LineSplitter(4 * 1024 * 1024, {
 *   line: (text) => console.log(JSON.parse(text)),
 *   malformed: (problem) => console.warn(problem),
 * });
 * splitter.push(Buffer.from('{"a":1}\n{"b"'));
 * splitter.push(Buffer.from(':2}'));
 * splitter.end(); // logs { a: 1 } then { b: 2 }
 * ```
 */
export class LineSplitter {
  private decoder = new TextDecoder('utf-8', { fatal: true });
  /** Decoded text of the current line so far (only when it spans chunks). */
  private parts: string[] = [];
  /** Bytes of the current line so far. */
  private lineBytes = 0;
  /** The current line was already reported; skip its bytes up to the next newline. */
  private skipping = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  /** Bytes of the line being read (0 between lines, and while skipping a rejected line). */
  get buffered(): number {
    return this.skipping ? 0 : this.lineBytes;
  }

  /** Feed one chunk. */
  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.take(chunk, start, chunk.length, false);
        return;
      }
      this.take(chunk, start, newline, true);
      start = newline + 1;
    }
  }

  /** The input ended: deliver the last line if it had no newline. */
  end(): void {
    if (this.skipping) {
      this.reset();
      return;
    }
    if (this.lineBytes === 0 && this.parts.length === 0) return;
    let tail: string;
    try {
      tail = this.decoder.decode();
    } catch {
      this.reject('invalid-utf8', true);
      return;
    }
    const text = this.parts.length === 0 ? tail : this.parts.join('') + tail;
    this.reset();
    this.deliver(text);
  }

  private take(chunk: Uint8Array, start: number, end: number, complete: boolean): void {
    if (this.skipping) {
      if (complete) this.reset();
      return;
    }
    const length = end - start;
    this.lineBytes += length;
    if (this.lineBytes > this.maxLineBytes) {
      this.reject('too-large', complete);
      return;
    }
    let text: string;
    try {
      // `stream: false` on the last piece of a line flushes the decoder and resets it for the next line.
      text = length === 0 && !complete ? '' : this.decoder.decode(chunk.subarray(start, end), { stream: !complete });
    } catch {
      this.reject('invalid-utf8', complete);
      return;
    }
    if (!complete) {
      if (text.length > 0) this.parts.push(text);
      return;
    }
    const line = this.parts.length === 0 ? text : this.parts.join('') + text;
    this.reset();
    this.deliver(line);
  }

  private deliver(text: string): void {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (BLANK.test(line)) return;
    this.sink.line(line);
  }

  private reject(problem: MalformedFrame, complete: boolean): void {
    // A decoder that threw mid-stream keeps a broken state: start the next line with a fresh one.
    this.decoder = new TextDecoder('utf-8', { fatal: true });
    this.parts = [];
    this.lineBytes = 0;
    this.skipping = !complete;
    this.sink.malformed(problem);
  }

  private reset(): void {
    this.parts = [];
    this.lineBytes = 0;
    this.skipping = false;
  }
}
