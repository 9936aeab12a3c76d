import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkedList, type Linked } from '../../src/runtime/linked-list.js';
import { RequestTable } from '../../src/runtime/request-table.js';

const ids = fc.oneof(fc.integer({ min: -2, max: 4 }), fc.constantFrom('1', 'a', 'b'));
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('set' as const), id: ids, value: fc.integer() }),
    fc.record({ op: fc.constant('delete' as const), id: ids }),
  ),
  { maxLength: 60 },
);

describe('RequestTable behaves like a Map', () => {
  it('has, get, size and values (in order) agree with a Map after any sequence of set / delete', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        const table = new RequestTable<number>();
        const model = new Map<string | number, number>();
        for (const step of sequence) {
          if (step.op === 'set') {
            table.set(step.id, step.value);
            model.set(step.id, step.value);
          } else {
            expect(table.delete(step.id)).toBe(model.delete(step.id));
          }
          expect(table.size).toBe(model.size);
          expect([...table.values()]).toEqual([...model.values()]);
          for (const id of [-2, -1, 0, 1, 2, 3, 4, '1', 'a', 'b']) {
            expect(table.has(id)).toBe(model.has(id));
            expect(table.get(id)).toBe(model.get(id));
          }
        }
      }),
    );
  });

  it('tells the number 1 from the string "1"', () => {
    const table = new RequestTable<string>();
    table.set(1, 'number');
    expect(table.has('1')).toBe(false);
    table.set('1', 'string');
    expect(table.get(1)).toBe('number');
    expect(table.get('1')).toBe('string');
  });
});

class Item implements Linked<Item> {
  listPrev: Item | undefined = undefined;
  listNext: Item | undefined = undefined;
  listed = false;
  constructor(readonly n: number) {}
}

describe('LinkedList behaves like a Set of its items', () => {
  it('size, order and membership agree with a Set after any sequence of add / delete', () => {
    const steps = fc.array(fc.record({ add: fc.boolean(), item: fc.integer({ min: 0, max: 7 }) }), { maxLength: 80 });
    fc.assert(
      fc.property(steps, (sequence) => {
        const items = Array.from({ length: 8 }, (_, n) => new Item(n));
        const list = new LinkedList<Item>();
        const model = new Set<Item>();
        for (const step of sequence) {
          const item = items[step.item]!;
          if (step.add) {
            list.add(item);
            model.add(item);
          } else {
            expect(list.delete(item)).toBe(model.delete(item));
          }
          expect(list.size).toBe(model.size);
          expect(list.toArray()).toEqual([...model]);
          expect([...list]).toEqual([...model]);
          expect(list.first).toBe([...model][0]);
        }
      }),
    );
  });

  it('lets the current item leave while it is iterated', () => {
    const list = new LinkedList<Item>();
    const items = [new Item(0), new Item(1), new Item(2)];
    for (const item of items) list.add(item);
    const seen: number[] = [];
    for (const item of list) {
      seen.push(item.n);
      list.delete(item);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(list.size).toBe(0);
    expect(list.first).toBeUndefined();
  });
});
