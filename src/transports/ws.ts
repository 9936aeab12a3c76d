/**
 * The WebSocket transport (`session-supervisor/ws`): adapt a `ws` socket to the runtime's Transport
 * interface, or listen on a `node:http` server and run one session per connection.
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { listenWebSocket } from 'session-supervisor/ws';
 *
 * const supervisor = createSupervisor({ methods: { echo: (params) => params } });
 * const listener = await listenWebSocket(supervisor, { port: 8080 });
 * ```
 */
export { createWebSocketTransport } from './ws/transport.js';
export type { WebSocketTransport } from './ws/transport.js';
export { attachWebSocket, createUpgradeHandler, listenWebSocket } from './ws/listen.js';
export type { SessionHost, UpgradeHandler, WebSocketListener, WebSocketServerOptions } from './ws/listen.js';
export { isLoopbackHost, resolveHostPolicy } from './request-guard.js';
export type { HostPolicy, HostRefusal, RequestGuardOptions } from './request-guard.js';
export { CLOSE_CODE_BY_INTENT, WS_CLOSE, closeCodeForError } from './ws/options.js';
export type { TransportTimers, WebSocketTransportOptions } from './ws/options.js';
