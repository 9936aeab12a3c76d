/**
 * Helpers for testing servers built on session-supervisor: a manual clock and an in-memory transport
 * pair, so that every timeout, drain and race can be driven deterministically.
 *
 * @example
 * ```ts
 * import { createTestClock, createMemoryTransportPair } from 'session-supervisor/testing';
 * ```
 */
export { createTestClock } from '../runtime/clock.js';
export type { TestClock } from '../runtime/clock.js';
export { createMemoryTransportPair } from '../transports/memory.js';
export type { MemoryPeer, MemoryTransport, MemoryTransportOptions } from '../transports/memory.js';
