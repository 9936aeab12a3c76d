/**
 * Helpers for testing servers built on session-supervisor: a manual clock and an in-memory transport
 * pair, so that every timeout, drain and race can be driven deterministically, and
 * {@link createSessionTestModel}, which generates model-based tests of your own server from the
 * library's connection and handler machines.
 *
 * @example
 * ```ts
 * import { createTestClock, createMemoryTransportPair, createSessionTestModel } from 'session-supervisor/testing';
 * ```
 */
export { createTestClock } from '../runtime/clock.js';
export type { TestClock } from '../runtime/clock.js';
export { createMemoryTransportPair } from '../transports/memory.js';
export type { MemoryPeer, MemoryTransport, MemoryTransportOptions } from '../transports/memory.js';
export { createSessionTestModel } from './session-model.js';
export type { SessionModelCoverage, SessionTestModel, SessionTestModelOptions, SessionTestPath } from './session-model.js';
export { ModelCheckError } from './harness.js';
export type { SessionServerFactory, SessionTestServer, SessionTestServerContext } from './harness.js';
export { createTestGate, GateReleasedError } from './gate.js';
export type { GateOutcome, TestGate } from './gate.js';
export { connectMemoryClient, connectWebSocketClient } from './client.js';
export type { SessionTestClient } from './client.js';
export { watchHandlers } from './watch.js';
export type { HandlerWatcher, WatchedHandler } from './watch.js';
