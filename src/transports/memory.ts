import type { CloseIntent, MalformedFrame, Transport, TransportSink } from './types.js';

/**
 * The client side of an in-memory pair: send frames to the server transport, end input, vanish,
 * and read what the server wrote.
 *
 * @example
 * ```ts
 * const { transport, peer } = createMemoryTransportPair();
 * supervisor.attach(transport);
 * peer.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { text: 'hi' } });
 * peer.received; // [{ jsonrpc: '2.0', id: 1, result: ... }]
 * ```
 */
export interface MemoryPeer {
  /** Every message the server wrote, parsed, in order. */
  readonly received: unknown[];
  /** Send a message (objects are JSON-encoded, strings go as they are). */
  send(message: unknown): void;
  /** Deliver a frame the transport could not decode (as a real transport would report it). */
  sendMalformed(problem: MalformedFrame): void;
  /** Half-close: the server's input ends, its output still works. */
  endInput(): void;
  /** The peer vanishes: the server's output is gone. */
  vanish(detail?: string): void;
  /** Call `listener` for every message the server writes. */
  onMessage(listener: (message: unknown) => void): () => void;
  /** How the server closed the pair (`undefined` while open). */
  readonly closeIntent: CloseIntent | undefined;
}

/**
 * The server side of an in-memory pair.
 *
 * @example
 * ```ts
 * const { transport } = createMemoryTransportPair();
 * transport.writesAfterClose; // 0 — invariant 1
 * ```
 */
export interface MemoryTransport extends Transport {
  /** Frames offered after the output closed (dropped). Invariant 1 says this stays 0. */
  readonly writesAfterClose: number;
}

/**
 * Options of the memory pair.
 *
 * @example
 * ```ts
 * createMemoryTransportPair({ failOnClose: true }); // a seam to test session failure
 * ```
 */
export interface MemoryTransportOptions {
  /** `close()` throws (a fault seam for testing session-failure handling). */
  failOnClose?: boolean;
}

/**
 * Create a connected in-memory transport pair. Delivery is synchronous and deterministic.
 *
 * @example
 * ```ts
 * const { transport, peer } = createMemoryTransportPair();
 * ```
 */
export function createMemoryTransportPair(options: MemoryTransportOptions = {}): {
  transport: MemoryTransport;
  peer: MemoryPeer;
} {
  let sink: TransportSink | undefined;
  let outputOpen = true;
  let inputOpen = true;
  let writesAfterClose = 0;
  let closeIntent: CloseIntent | undefined;
  const received: unknown[] = [];
  const listeners = new Set<(message: unknown) => void>();
  const pending: Array<(s: TransportSink) => void> = [];

  const deliver = (fn: (s: TransportSink) => void): void => {
    if (sink) fn(sink);
    else pending.push(fn);
  };

  const transport: MemoryTransport = {
    kind: 'memory',
    get outputOpen() {
      return outputOpen;
    },
    get writesAfterClose() {
      return writesAfterClose;
    },
    start(s) {
      sink = s;
      for (const fn of pending.splice(0)) fn(s);
    },
    send(frame) {
      if (!outputOpen) {
        writesAfterClose += 1;
        return;
      }
      const message: unknown = JSON.parse(frame);
      received.push(message);
      for (const listener of [...listeners]) listener(message);
    },
    close(intent) {
      if (options.failOnClose === true) throw new Error('memory transport: close failed (fault seam)');
      if (closeIntent !== undefined) return;
      closeIntent = intent;
      const wasOpen = outputOpen;
      outputOpen = false;
      inputOpen = false;
      if (wasOpen) deliver((s) => s.onClosed('closed by server'));
    },
  };

  const peer: MemoryPeer = {
    received,
    get closeIntent() {
      return closeIntent;
    },
    send(message) {
      if (!inputOpen) return;
      const frame = typeof message === 'string' ? message : JSON.stringify(message);
      deliver((s) => s.onFrame(frame));
    },
    sendMalformed(problem) {
      if (!inputOpen) return;
      deliver((s) => s.onMalformed(problem));
    },
    endInput() {
      if (!inputOpen) return;
      inputOpen = false;
      deliver((s) => s.onInputEnded());
    },
    vanish(detail = 'peer vanished') {
      inputOpen = false;
      if (!outputOpen) return;
      outputOpen = false;
      deliver((s) => s.onClosed(detail));
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  return { transport, peer };
}
