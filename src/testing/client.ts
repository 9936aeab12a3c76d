import WebSocket from 'ws';
import type { Supervisor } from '../supervisor.js';
import { createMemoryTransportPair } from '../transports/memory.js';

/**
 * The peer side of one connection, as the session test model drives it. A memory pair and a real
 * WebSocket are provided ({@link connectMemoryClient}, {@link connectWebSocketClient}); implement
 * this interface to drive any other transport.
 *
 * @example
 * ```ts
 * const client = connectMemoryClient(supervisor);
 * client.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
 * client.received; // what the server wrote, parsed
 * ```
 */
export interface SessionTestClient {
  /** Send one message (objects are JSON-encoded). */
  send(message: unknown): void;
  /** Every message the server wrote, parsed, in arrival order. */
  readonly received: readonly unknown[];
  /** Half-close: the server's input ends, its output still works. Leave it out where the transport has no half-close. */
  endInput?(): void;
  /** The peer vanishes: the server's output is gone. */
  vanish(): void;
  /** Frames the server offered after its output closed, where the transport can tell (invariant 1: stays 0). */
  readonly writesAfterClose?: number;
  /** Release the client's resources (called once the path has finished). */
  dispose?(): Promise<void> | void;
}

/**
 * Attach a new in-memory connection to `supervisor` and return its peer side.
 *
 * @example
 * ```ts
 * const client = connectMemoryClient(supervisor);
 * client.endInput?.();
 * ```
 */
export function connectMemoryClient(supervisor: Supervisor): SessionTestClient {
  const { transport, peer } = createMemoryTransportPair();
  supervisor.attach(transport);
  return {
    send: (message) => peer.send(message),
    received: peer.received,
    endInput: () => peer.endInput(),
    vanish: () => peer.vanish(),
    get writesAfterClose() {
      return transport.writesAfterClose;
    },
  };
}

/**
 * Open a real WebSocket to `url` (a server that attaches each connection to a supervisor) and
 * return its peer side once open. WebSocket has no half-close, so `endInput` is absent; `vanish`
 * resets the socket.
 *
 * @example
 * ```ts
 * const client = await connectWebSocketClient('ws://127.0.0.1:8787');
 * client.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
 * ```
 */
export async function connectWebSocketClient(url: string): Promise<SessionTestClient> {
  const socket = new WebSocket(url);
  const received: unknown[] = [];
  socket.on('message', (data: WebSocket.RawData) => {
    try {
      received.push(JSON.parse(String(data)));
    } catch {
      received.push({ unparsable: String(data) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {
    // a reset socket reports an error after terminate(); the path checks states, not this
  });
  return {
    send: (message) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    received,
    vanish: () => socket.terminate(),
    dispose: () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      return new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.terminate();
      });
    },
  };
}
