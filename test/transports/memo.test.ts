import { describe, expect, it } from 'vitest';
import { memoizeByValue } from '../../src/transports/memo.js';

describe('memoizeByValue', () => {
  it('computes each value once, including falsy results, and stays bounded', () => {
    const seen: string[] = [];
    const verdict = memoizeByValue((value) => {
      seen.push(value);
      return value.startsWith('ok');
    }, 2);
    expect([verdict('ok1'), verdict('bad'), verdict('ok1'), verdict('bad')]).toEqual([true, false, true, false]);
    expect(seen).toEqual(['ok1', 'bad']);
    verdict('ok3'); // a third value empties the map first
    verdict('ok1');
    expect(seen).toEqual(['ok1', 'bad', 'ok3', 'ok1']);
    const long = 'x'.repeat(300);
    verdict(long);
    verdict(long);
    expect(seen.filter((value) => value === long)).toHaveLength(2);
  });
});
