/**
 * Memoize a function of one header value. Clients send the same few `Accept`, `Content-Type`,
 * `Host` and `Origin` values on every request, so each is parsed once: a value up to 256
 * characters is kept, in a map of at most `size` entries that is emptied when full (a client
 * sending a new value every time cannot grow it).
 *
 * @example
 * ```ts
 * const lower = memoizeByValue((value) => value.toLowerCase());
 * lower('Text/Plain'); // parsed once, then read from the map
 * ```
 */
export function memoizeByValue<T>(compute: (value: string) => T, size = 64): (value: string) => T {
  const cache = new Map<string, T>();
  return (value) => {
    const hit = cache.get(value);
    if (hit !== undefined || cache.has(value)) return hit as T;
    const result = compute(value);
    if (value.length <= 256) {
      if (cache.size >= size) cache.clear();
      cache.set(value, result);
    }
    return result;
  };
}
