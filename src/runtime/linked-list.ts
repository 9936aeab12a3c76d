/**
 * An item of a {@link LinkedList}: it carries its own links, so adding and removing it allocate
 * nothing and hash nothing. An item is in at most one list at a time.
 */
export interface Linked<T> {
  /** @internal */
  listPrev: T | undefined;
  /** @internal */
  listNext: T | undefined;
  /** @internal Whether the item is in a list. */
  listed: boolean;
}

/**
 * An insertion-ordered collection of objects that link themselves (an intrusive doubly linked
 * list): `add` and `delete` are a few field writes, where a `Set` of short-lived objects pays for
 * an identity hash and table upkeep on every request of a busy server. Iteration is oldest first,
 * which is deadline order when every item gets the same timeout.
 *
 * @example
 * ```ts
 * class Body implements Linked<Body> { listPrev = undefined; listNext = undefined; listed = false; }
 * const bodies = new LinkedList<Body>();
 * const body = new Body();
 * bodies.add(body);
 * bodies.delete(body); // true
 * ```
 */
export class LinkedList<T extends Linked<T>> {
  private head: T | undefined = undefined;
  private tail: T | undefined = undefined;
  private count = 0;

  /** How many items are in the list. */
  get size(): number {
    return this.count;
  }

  /** The oldest item. */
  get first(): T | undefined {
    return this.head;
  }

  /** Append `item` (a no-op if it is already in a list). */
  add(item: T): void {
    if (item.listed) return;
    item.listed = true;
    item.listPrev = this.tail;
    item.listNext = undefined;
    if (this.tail === undefined) this.head = item;
    else this.tail.listNext = item;
    this.tail = item;
    this.count += 1;
  }

  /** Remove `item`; `false` if it was not in the list. Only call it with items of this list or none. */
  delete(item: T): boolean {
    if (!item.listed) return false;
    const { listPrev: prev, listNext: next } = item;
    if (prev === undefined) this.head = next;
    else prev.listNext = next;
    if (next === undefined) this.tail = prev;
    else next.listPrev = prev;
    item.listPrev = undefined;
    item.listNext = undefined;
    item.listed = false;
    this.count -= 1;
    return true;
  }

  /** The items, oldest first, as a new array (safe to act on while the list changes). */
  toArray(): T[] {
    const items: T[] = [];
    for (let item = this.head; item !== undefined; item = item.listNext) items.push(item);
    return items;
  }

  /** Iterate oldest first; an item removed during the iteration must be the current one. */
  *[Symbol.iterator](): IterableIterator<T> {
    let item = this.head;
    while (item !== undefined) {
      const next = item.listNext;
      yield item;
      item = next;
    }
  }
}
