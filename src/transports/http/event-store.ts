/**
 * One stored SSE event: its id (the SSE `id:` field) and the JSON-RPC frame it carried.
 *
 * @example
 * ```ts
 * const event: StoredEvent = { id: 'st1-3', frame: '{"jsonrpc":"2.0","id":1,"result":{}}' };
 * ```
 */
export interface StoredEvent {
  readonly id: string;
  readonly frame: string;
}

/**
 * Where legacy (2025-11-25 and before) SSE events are kept so that a client whose stream broke can
 * resume it with `GET` + `Last-Event-ID`. Calls are synchronous, in the order the frames are
 * written; an external store can sit behind a write-behind cache. Stream keys are unique across
 * every session of a handler.
 *
 * @example
 * ```ts
 * const store = createMemoryEventStore({ maxEventsPerStream: 100 });
 * const id = store.append('st1', '{"jsonrpc":"2.0","method":"notifications/progress"}');
 * store.replayAfter(id); // { streamKey: 'st1', events: [] }
 * ```
 */
export interface EventStore {
  /** Keep one event of a stream; returns its event id (unique across the store). */
  append(streamKey: string, frame: string): string;
  /**
   * The events after `eventId` on its stream, oldest first, and the stream's key; `undefined` when
   * the id is unknown or its stream was evicted.
   */
  replayAfter(eventId: string): { streamKey: string; events: readonly StoredEvent[] } | undefined;
  /** Forget a stream (its answer was delivered, or its session ended). */
  drop(streamKey: string): void;
}

/**
 * Bounds of {@link createMemoryEventStore}.
 *
 * @example
 * ```ts
 * const options: MemoryEventStoreOptions = { maxEventsPerStream: 100, maxEvents: 10_000, maxBytes: 8 << 20 };
 * ```
 */
export interface MemoryEventStoreOptions {
  /** Events kept per stream; older ones are dropped first. Default 1000. */
  maxEventsPerStream?: number;
  /** Events kept in total; the oldest streams are evicted whole. Default 100 000. */
  maxEvents?: number;
  /** Frame characters kept in total (≈ bytes); the oldest streams are evicted whole. Default 64 Mi. */
  maxBytes?: number;
}

interface StreamLog {
  next: number;
  /** Sequence number of `events[0]`. */
  first: number;
  events: StoredEvent[];
  bytes: number;
}

/**
 * The default {@link EventStore}: in memory, bounded per stream and in total (the oldest streams go
 * first). Event ids are `<streamKey>-<n>`.
 *
 * @example
 * ```ts
 * import { listenHttp, createMemoryEventStore } from 'session-supervisor/http';
 * await listenHttp(supervisor, { eventStore: createMemoryEventStore({ maxEvents: 10_000 }) });
 * ```
 */
export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const perStream = Math.max(1, options.maxEventsPerStream ?? 1000);
  const maxEvents = Math.max(1, options.maxEvents ?? 100_000);
  const maxBytes = Math.max(1, options.maxBytes ?? 64 * 1024 * 1024);
  const streams = new Map<string, StreamLog>();
  let totalEvents = 0;
  let totalBytes = 0;

  const evictOldest = (keep: string): void => {
    for (const [key, log] of streams) {
      if (totalEvents <= maxEvents && totalBytes <= maxBytes) return;
      if (key === keep) continue;
      totalEvents -= log.events.length;
      totalBytes -= log.bytes;
      streams.delete(key);
    }
  };

  return {
    append(streamKey, frame) {
      let log = streams.get(streamKey);
      if (log === undefined) {
        log = { next: 0, first: 0, events: [], bytes: 0 };
        streams.set(streamKey, log);
      }
      const id = `${streamKey}-${log.next}`;
      log.next += 1;
      log.events.push({ id, frame });
      log.bytes += frame.length;
      totalEvents += 1;
      totalBytes += frame.length;
      while (log.events.length > perStream) {
        const dropped = log.events.shift()!;
        log.first += 1;
        log.bytes -= dropped.frame.length;
        totalEvents -= 1;
        totalBytes -= dropped.frame.length;
      }
      if (totalEvents > maxEvents || totalBytes > maxBytes) evictOldest(streamKey);
      return id;
    },
    replayAfter(eventId) {
      const dash = eventId.lastIndexOf('-');
      if (dash <= 0) return undefined;
      const streamKey = eventId.slice(0, dash);
      const seqText = eventId.slice(dash + 1);
      if (!/^(0|[1-9][0-9]{0,15})$/.test(seqText)) return undefined;
      const log = streams.get(streamKey);
      const seq = Number(seqText);
      if (log === undefined || seq >= log.next) return undefined;
      // An id older than what is kept: the events in between are gone, so resuming would lose data.
      if (seq < log.first - 1) return undefined;
      return { streamKey, events: log.events.slice(seq + 1 - log.first) };
    },
    drop(streamKey) {
      const log = streams.get(streamKey);
      if (log === undefined) return;
      totalEvents -= log.events.length;
      totalBytes -= log.bytes;
      streams.delete(streamKey);
    },
  };
}
