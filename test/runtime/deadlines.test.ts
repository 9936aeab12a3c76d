import { describe, expect, it } from 'vitest';
import { delayToFirst, expiredFront } from '../../src/runtime/deadlines.js';

const at = (item: { at: number }): number => item.at;

describe('deadline FIFO helpers', () => {
  it('gives the delay to the front item, never negative, and none when empty or never due', () => {
    expect(delayToFirst([{ at: 150 }, { at: 100 }], at, 100)).toBe(50);
    expect(delayToFirst([{ at: 90 }], at, 100)).toBe(0);
    expect(delayToFirst([], at, 100)).toBeUndefined();
    expect(delayToFirst([{ at: Infinity }], at, 100)).toBeUndefined();
  });

  it('returns the expired front as a copy and stops at the first item not yet due', () => {
    const items = new Set([{ at: 1 }, { at: 2 }, { at: 5 }, { at: 3 }]);
    const expired = expiredFront(items, at, 3);
    expect(expired).toEqual([{ at: 1 }, { at: 2 }]);
    for (const item of expired) items.delete(item);
    expect(items.size).toBe(2);
    expect(expiredFront(items, at, 0)).toEqual([]);
  });
});
