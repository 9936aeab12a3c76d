import type { RequestId } from '../../machines/handler.js';

/**
 * The running requests of one session by id, in arrival order. Most sessions never run two at
 * once (one request per modern HTTP exchange, sequential clients), so one entry is held in two
 * fields and a `Map` exists only while two or more run; it is dropped (not emptied) when the
 * last entry goes, so a session whose load comes and goes does not pay for a map's upkeep per
 * request. The same `has` / `get` / `set` / `delete` / `size` / `values` as a `Map`.
 *
 * @example
 * ```ts
 * const running = new RequestTable<string>();
 * running.set(1, 'a');
 * running.get(1); // 'a'
 * running.delete(1); // true
 * ```
 */
export class RequestTable<V> {
  private oneId: RequestId | undefined = undefined;
  private one: V | undefined = undefined;
  private many: Map<RequestId, V> | undefined = undefined;

  /** How many entries there are. */
  get size(): number {
    if (this.many !== undefined) return this.many.size;
    return this.oneId === undefined ? 0 : 1;
  }

  has(id: RequestId): boolean {
    if (this.many !== undefined) return this.many.has(id);
    return this.oneId !== undefined && this.oneId === id;
  }

  get(id: RequestId): V | undefined {
    if (this.many !== undefined) return this.many.get(id);
    return this.oneId !== undefined && this.oneId === id ? this.one : undefined;
  }

  set(id: RequestId, value: V): void {
    if (this.many !== undefined) {
      this.many.set(id, value);
    } else if (this.oneId === undefined || this.oneId === id) {
      this.oneId = id;
      this.one = value;
    } else {
      this.many = new Map([
        [this.oneId, this.one as V],
        [id, value],
      ]);
      this.oneId = undefined;
      this.one = undefined;
    }
  }

  /** Remove the entry of `id`; `false` if there was none. */
  delete(id: RequestId): boolean {
    const many = this.many;
    if (many !== undefined) {
      if (many.size > 1) return many.delete(id);
      if (!many.has(id)) return false;
      this.many = undefined;
      return true;
    }
    if (this.oneId === undefined || this.oneId !== id) return false;
    this.oneId = undefined;
    this.one = undefined;
    return true;
  }

  /** The values in arrival order (live, like a map's iterator). */
  values(): IterableIterator<V> {
    if (this.many !== undefined) return this.many.values();
    return (this.oneId === undefined ? [] : [this.one as V]).values();
  }
}
