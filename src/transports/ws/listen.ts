import { STATUS_CODES, createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SupervisorError } from '../../jsonrpc/errors.js';
import { bindServer, closeServer } from '../bind.js';
import { authenticateRequest, resolveHostPolicy, type RequestGuardOptions } from '../request-guard.js';
import type { Transport } from '../types.js';
import { resolveTransportOptions, type ResolvedTransportOptions, type WebSocketTransportOptions } from './options.js';
import { createResolvedWebSocketTransport, flushWebSocket } from './transport.js';

/**
 * What the WebSocket server needs of a supervisor. A `Supervisor` from `createSupervisor()` is one;
 * `S` is what `attach` returns (a `Session`).
 *
 * @example
 * ```ts
 * const host: SessionHost<Session> = createSupervisor({ methods });
 * ```
 */
export interface SessionHost<S = unknown> {
  /** `true` while new sessions are accepted. */
  readonly accepting: boolean;
  /** Run a session over a transport. */
  attach(transport: Transport): S;
}

/**
 * Options of {@link listenWebSocket}: where to listen, who may connect, and the options of every
 * transport it creates.
 *
 * @example
 * ```ts
 * const options: WebSocketServerOptions = {
 *   port: 8080,
 *   allowedOrigins: ['https://app.example.com'],
 *   authenticate: (request) => request.headers.authorization === `Bearer ${process.env.TOKEN}`,
 * };
 * ```
 */
export interface WebSocketServerOptions extends WebSocketTransportOptions, RequestGuardOptions {
  /** Interface to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** Port to bind; `0` picks a free one. Default 0. */
  port?: number;
  /** Largest inbound message in bytes; larger → close 1009. Default 4 MiB. */
  maxPayload?: number;
}

/**
 * A listening WebSocket server.
 *
 * @example
 * ```ts
 * const listener = await listenWebSocket(supervisor);
 * console.log(listener.url); // ws://127.0.0.1:54321
 * await supervisor.drain();
 * await listener.close();
 * ```
 */
export interface WebSocketListener {
  /** `ws://HOST:PORT` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The underlying `node:http` server. */
  readonly server: Server;
  /** Refuse every further upgrade with HTTP 503; open sessions go on. */
  stopAccepting(): void;
  /** Stop accepting, terminate the sockets that are left, close the http server. */
  close(): Promise<void>;
}

/**
 * Run a session over an already-upgraded `ws` socket (for servers that own their http server). When
 * the supervisor no longer accepts sessions the socket is closed with 1001 and `undefined` returned.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { attachWebSocket } from 'session-supervisor/ws';
 *
 * const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
 * httpServer.on('upgrade', (request, socket, head) => {
 *   wss.handleUpgrade(request, socket, head, (ws) => attachWebSocket(supervisor, ws, { heartbeatMs: 15_000 }));
 * });
 * ```
 */
export function attachWebSocket<S>(supervisor: SessionHost<S>, socket: WebSocket, options: WebSocketTransportOptions = {}): S | undefined {
  return attachResolved(supervisor, socket, resolveTransportOptions(options));
}

function attachResolved<S>(
  supervisor: SessionHost<S>,
  socket: WebSocket,
  config: ResolvedTransportOptions,
  stream?: Duplex,
): S | undefined {
  const transport = createResolvedWebSocketTransport(socket, config, stream);
  if (!supervisor.accepting) {
    transport.close('going-away');
    return undefined;
  }
  try {
    return supervisor.attach(transport);
  } catch (error) {
    transport.close(error instanceof SupervisorError && error.code === 'ERR_NOT_ACCEPTING' ? 'going-away' : 'internal-error');
    return undefined;
  }
}

function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${body}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      '\r\n' +
      text,
  );
}

const ignore = (): void => {};

/**
 * The upgrade side of a WebSocket listener, to put on any `node:http` server's `'upgrade'` event
 * (`listenWebSocket` and `listenHttp({ webSocket })` use it): the host/origin check, `authenticate`,
 * admission and one session per socket.
 *
 * @example
 * ```ts
 * const upgrades = createUpgradeHandler(supervisor, { host: '127.0.0.1' });
 * server.on('upgrade', upgrades.onUpgrade);
 * ```
 */
export interface UpgradeHandler {
  /** The `'upgrade'` listener. */
  readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Refuse every further upgrade with 503. */
  stopAccepting(): void;
  /** Stop accepting; destroy upgrades in progress and terminate every socket. */
  close(): void;
}

/**
 * Create the {@link UpgradeHandler} of a supervisor (the options of {@link listenWebSocket}; `port`
 * is not used, `host` sets the host/origin defaults).
 *
 * @example
 * ```ts
 * const server = createServer(httpHandler);
 * server.on('upgrade', createUpgradeHandler(supervisor, { host: '127.0.0.1', heartbeatMs: 15_000 }).onUpgrade);
 * ```
 */
export function createUpgradeHandler(supervisor: SessionHost, options: WebSocketServerOptions = {}): UpgradeHandler {
  const { host = '127.0.0.1', port: _port, authenticate, allowedOrigins, allowedHosts, maxPayload = 4 * 1024 * 1024, ...transportOptions } = options;
  if (typeof maxPayload !== 'number' || !Number.isFinite(maxPayload) || maxPayload < 1) {
    throw new SupervisorError('ERR_INVALID_OPTION', `maxPayload must be a finite number >= 1 (got ${String(maxPayload)})`);
  }
  // Resolve (and check) the transport options once, not per connection.
  const config = resolveTransportOptions(transportOptions);
  const hostPolicy = resolveHostPolicy(host, {
    ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
  });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mcp') ? 'mcp' : false),
  });
  const upgrading = new Set<Duplex>();
  let accepting = true;

  const admitted = (): boolean => accepting && supervisor.accepting;

  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on('error', ignore);
    if (!admitted()) return refuseUpgrade(socket, 503, 'Service Unavailable: not accepting connections');
    const refusal = hostPolicy.check(request);
    if (refusal !== undefined) return refuseUpgrade(socket, 403, `Forbidden: ${refusal} not allowed`);
    if (authenticate !== undefined) {
      upgrading.add(socket);
      const verdict = await authenticateRequest(authenticate, request);
      upgrading.delete(socket);
      if (socket.destroyed) return;
      if (verdict === 'error') return refuseUpgrade(socket, 500, 'Internal Server Error: authentication failed');
      if (verdict === 'unauthorized') return refuseUpgrade(socket, 401, 'Unauthorized');
      if (!admitted()) return refuseUpgrade(socket, 503, 'Service Unavailable: not accepting connections');
    }
    socket.off('error', ignore);
    wss.handleUpgrade(request, socket, head, (ws) => {
      attachResolved(supervisor, ws, config, socket);
    });
  };

  return {
    onUpgrade(request, socket, head) {
      upgrade(request, socket, head).catch(() => {
        socket.destroy();
      });
    },
    stopAccepting() {
      accepting = false;
    },
    close() {
      accepting = false;
      for (const socket of [...upgrading]) socket.destroy();
      for (const ws of [...wss.clients]) {
        flushWebSocket(ws);
        ws.terminate();
      }
      wss.close();
    },
  };
}

/**
 * Listen for WebSocket connections and run a session per connection: a `node:http` server with a
 * `ws` server in `noServer` mode (perMessageDeflate off, `maxPayload` 4 MiB). Every path is accepted;
 * the subprotocol `mcp` is chosen when the client offers it.
 *
 * Refusals before any actor exists: a plain HTTP request → 426; the supervisor not accepting or
 * `stopAccepting()` called → 503; a `Host` not in `allowedHosts` or an `Origin` not in
 * `allowedOrigins` → 403 (by default a loopback-bound listener admits only loopback names, so a web
 * page cannot drive a local server through the browser); `authenticate` false → 401 (throws → 500).
 * Malformed upgrades get ws's own 400.
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { listenWebSocket } from 'session-supervisor/ws';
 *
 * const supervisor = createSupervisor({ methods: { echo: (params) => params } });
 * const listener = await listenWebSocket(supervisor, { port: 8080 });
 * console.log(`listening on ${listener.url}`);
 * ```
 */
export async function listenWebSocket(supervisor: SessionHost, options: WebSocketServerOptions = {}): Promise<WebSocketListener> {
  const { host = '127.0.0.1', port = 0 } = options;
  const upgrades = createUpgradeHandler(supervisor, options);

  const server = createServer((_request, response) => {
    const body = 'Upgrade Required: this endpoint speaks WebSocket\n';
    response.writeHead(426, {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  server.on('upgrade', upgrades.onUpgrade);

  const { port: boundPort, urlHost } = await bindServer(server, host, port);

  let closing: Promise<void> | undefined;
  return {
    url: `ws://${urlHost}:${boundPort}`,
    host,
    port: boundPort,
    server,
    stopAccepting() {
      upgrades.stopAccepting();
    },
    close() {
      if (closing === undefined) {
        upgrades.close();
        closing = closeServer(server);
      }
      return closing;
    },
  };
}
