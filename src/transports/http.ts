/**
 * The Streamable HTTP transport (`session-supervisor/http`): both MCP eras on one endpoint — modern
 * (2026-07-28) stateless exchanges, one short-lived session per POST, and legacy (2025-11-25 and
 * before) sessions created by `initialize` — with the same actors, send guard and cancellation as
 * every other transport.
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { listenHttp } from 'session-supervisor/http';
 *
 * const supervisor = createSupervisor({ methods: { echo: (params) => params } });
 * const listener = await listenHttp(supervisor, { port: 8080 });
 * console.log(listener.url); // http://127.0.0.1:8080/mcp
 * ```
 */
export { listenHttp } from './http/listen.js';
export { createProbes } from './http/probes.js';
export type { ProbePaths, ProbeTarget } from './http/probes.js';
export type { HttpListener, HttpServerOptions } from './http/listen.js';
export { createHttpHandler } from './http/handler.js';
export type { HttpHandler, HttpHandlerBinding } from './http/handler.js';
export { modernErrorStatus } from './http/options.js';
export type { HttpHandlerOptions, HttpSessionHost } from './http/options.js';
export { createMemoryEventStore } from './http/event-store.js';
export type { EventStore, MemoryEventStoreOptions, StoredEvent } from './http/event-store.js';
export { HttpExchangeTransport } from './http/exchange.js';
export { LegacySessionTransport } from './http/legacy-transport.js';
export type { HttpStats } from './http/stats.js';
export { isLoopbackHost, resolveHostPolicy, authenticateRequest } from './request-guard.js';
export type { AuthVerdict, HostPolicy, HostRefusal, RequestGuardOptions } from './request-guard.js';
