import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { MalformedFrame } from '../../src/transports/types.js';
import { LineSplitter } from '../../src/transports/stdio.js';

type Item = { line: string } | { malformed: MalformedFrame };

function splitter(maxLineBytes = 1024): { splitter: LineSplitter; items: Item[] } {
  const items: Item[] = [];
  const s = new LineSplitter(maxLineBytes, {
    line: (line) => items.push({ line }),
    malformed: (malformed) => items.push({ malformed }),
  });
  return { splitter: s, items };
}

/** Cut `bytes` at the given positions (sorted, deduplicated, inside the buffer). */
function cut(bytes: Uint8Array, positions: number[]): Uint8Array[] {
  const points = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

const encoder = new TextEncoder();

describe('LineSplitter', () => {
  fcTest.prop(
    [
      // A leading U+FEFF is a byte order mark, which the decoder drops (tested below).
      fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\n') && !s.includes('\r') && !s.startsWith('\uFEFF')), { maxLength: 12 }),
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 30 }),
    ],
    { numRuns: 300 },
  )('delivers the same lines however the bytes are chunked, with LF or CRLF', (lines, crlf, positions) => {
    const text = lines.map((line) => `${line}${crlf ? '\r\n' : '\n'}`).join('');
    const { splitter: s, items } = splitter(1 << 20);
    for (const chunk of cut(encoder.encode(text), positions)) s.push(chunk);
    s.end();
    expect(items).toEqual(lines.filter((line) => line.trim() !== '').map((line) => ({ line })));
  });

  it('keeps a four-byte character split over four chunks intact', () => {
    const { splitter: s, items } = splitter();
    const bytes = encoder.encode('a🎉b\n');
    for (const byte of bytes) s.push(Uint8Array.of(byte));
    expect(items).toEqual([{ line: 'a🎉b' }]);
  });

  it('reports a line of invalid UTF-8 once and goes on with the next line', () => {
    const { splitter: s, items } = splitter();
    s.push(Uint8Array.of(0x61, 0xff));
    s.push(Uint8Array.of(0xfe, 0x62, 0x0a, 0x63, 0x0a));
    expect(items).toEqual([{ malformed: 'invalid-utf8' }, { line: 'c' }]);
  });

  it('reports a character cut short by the newline as invalid UTF-8', () => {
    const { splitter: s, items } = splitter();
    s.push(Uint8Array.of(0xe6, 0x97));
    s.push(Uint8Array.of(0x0a, 0x78, 0x0a));
    expect(items).toEqual([{ malformed: 'invalid-utf8' }, { line: 'x' }]);
  });

  it('reports a last line cut short inside a character as invalid UTF-8 at the end', () => {
    const { splitter: s, items } = splitter();
    s.push(encoder.encode('ok\n'));
    s.push(Uint8Array.of(0xf0, 0x9f));
    s.end();
    expect(items).toEqual([{ line: 'ok' }, { malformed: 'invalid-utf8' }]);
  });

  it('reports a too-long line once, skips it to the next newline without holding it', () => {
    const { splitter: s, items } = splitter(16);
    const big = new Uint8Array(10).fill(0x61);
    let peak = 0;
    for (let i = 0; i < 1000; i += 1) {
      s.push(big);
      peak = Math.max(peak, s.buffered);
    }
    s.push(encoder.encode('\nnext\n'));
    expect(items).toEqual([{ malformed: 'too-large' }, { line: 'next' }]);
    expect(peak).toBeLessThanOrEqual(16);
  });

  it('accepts a line of exactly maxLineBytes and refuses one byte more', () => {
    const { splitter: s, items } = splitter(4);
    s.push(encoder.encode('abcd\nabcde\n'));
    expect(items).toEqual([{ line: 'abcd' }, { malformed: 'too-large' }]);
  });

  it('ignores empty and blank lines and delivers a last line without newline at the end', () => {
    const { splitter: s, items } = splitter();
    s.push(encoder.encode('\n\r\n \t \n{"a":1}\n{"b"'));
    s.push(encoder.encode(':2}'));
    expect(items).toEqual([{ line: '{"a":1}' }]);
    s.end();
    expect(items).toEqual([{ line: '{"a":1}' }, { line: '{"b":2}' }]);
  });

  it('drops a byte order mark at the start of a line', () => {
    const { splitter: s, items } = splitter();
    s.push(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0x0a));
    expect(items).toEqual([{ line: '{}' }]);
  });

  it('delivers nothing at the end after a rejected line that had no newline', () => {
    const { splitter: s, items } = splitter(4);
    s.push(encoder.encode('abcdefgh'));
    s.end();
    expect(items).toEqual([{ malformed: 'too-large' }]);
  });
});
