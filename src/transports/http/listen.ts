import { createServer, type Server } from 'node:http';
import { SupervisorError } from '../../jsonrpc/errors.js';
import { bindServer, closeServer } from '../bind.js';
import { createUpgradeHandler, type WebSocketServerOptions } from '../ws/listen.js';
import { createHttpHandler } from './handler.js';
import type { HttpHandlerOptions, HttpSessionHost } from './options.js';
import { createProbes, type ProbePaths, type ProbeTarget } from './probes.js';
import type { HttpStats } from './stats.js';

/**
 * Options of {@link listenHttp}: where to listen, the handler's options, the server's timeouts and,
 * optionally, WebSocket upgrades on the same port.
 *
 * @example
 * ```ts
 * const options: HttpServerOptions = { port: 8080, path: '/mcp', maxSessions: 1000, webSocket: true };
 * ```
 */
export interface HttpServerOptions extends HttpHandlerOptions, ProbePaths {
  /** Interface to bind. Default `'127.0.0.1'`. */
  host?: string;
  /** Port to bind; `0` picks a free one. Default 0. */
  port?: number;
  /** The request headers must arrive within this many ms (`server.headersTimeout`). Default 10 000. */
  headersTimeoutMs?: number;
  /**
   * Also accept WebSocket upgrades (any path) on this server, with these options (`true`: the
   * defaults; the host/origin allow-lists and `authenticate` are this listener's). Default off.
   */
  webSocket?: boolean | Omit<WebSocketServerOptions, 'host' | 'port' | 'allowedHosts' | 'allowedOrigins' | 'authenticate'>;
}

/**
 * A listening Streamable HTTP server.
 *
 * @example
 * ```ts
 * const listener = await listenHttp(supervisor, { port: 0 });
 * console.log(listener.url); // http://127.0.0.1:54321/mcp
 * await supervisor.drain();
 * await listener.close();
 * ```
 */
export interface HttpListener {
  /** `http://HOST:PORT/PATH` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The underlying `node:http` server. */
  readonly server: Server;
  /** Sessions, exchanges and refusals so far (for metrics). */
  stats(): HttpStats;
  /** Refuse every further request (and upgrade) with 503; open exchanges and sessions go on. */
  stopAccepting(): void;
  /** Stop accepting, end the legacy sessions, close every connection and the server. */
  close(): Promise<void>;
}

/**
 * Listen for Streamable HTTP on `host:port` at `path` (default `127.0.0.1`, `/mcp`): a `node:http`
 * server running {@link createHttpHandler}, with bounded header and body times. Probes on the same
 * port: `GET /healthz` (live: 200) and `GET /readyz` (200 while the supervisor is ready and this
 * listener accepts, 503 from the first shutdown signal on); paths configurable. Other paths → 404.
 * With `webSocket`, WebSocket upgrades on the same port run sessions too (as `listenWebSocket`).
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { listenHttp } from 'session-supervisor/http';
 *
 * const supervisor = createSupervisor({ methods: { echo: (params) => params } });
 * const listener = await listenHttp(supervisor, { port: 8080 });
 * console.log(`listening on ${listener.url}`);
 * ```
 */
export async function listenHttp(supervisor: HttpSessionHost & ProbeTarget, options: HttpServerOptions = {}): Promise<HttpListener> {
  const { host = '127.0.0.1', port = 0, headersTimeoutMs = 10_000, webSocket, healthPath, readyPath, ...handlerOptions } = options;
  if (typeof headersTimeoutMs !== 'number' || !Number.isFinite(headersTimeoutMs) || headersTimeoutMs < 1) {
    throw new SupervisorError('ERR_INVALID_OPTION', `headersTimeoutMs must be a finite number >= 1 (got ${String(headersTimeoutMs)})`);
  }
  const handler = createHttpHandler(supervisor, { ...handlerOptions, host });
  const bodyTimeoutMs = handlerOptions.bodyTimeoutMs ?? 30_000;
  let accepting = true;
  const probes = createProbes(supervisor, () => accepting, {
    ...(healthPath === undefined ? {} : { healthPath }),
    ...(readyPath === undefined ? {} : { readyPath }),
  });
  // Check slow requests often enough that a header timeout is felt near its value, not 30 s late.
  const server = createServer({ connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs) }, (request, response) => {
    if (!probes(request, response)) handler(request, response);
  });
  server.headersTimeout = headersTimeoutMs;
  // The whole request (headers and body) is bounded too; the handler's own body timer answers 408 first.
  server.requestTimeout = headersTimeoutMs + bodyTimeoutMs + 1_000;
  const upgrades =
    webSocket === undefined || webSocket === false
      ? undefined
      : createUpgradeHandler(supervisor, {
          ...(webSocket === true ? {} : webSocket),
          host,
          ...(handlerOptions.allowedHosts === undefined ? {} : { allowedHosts: handlerOptions.allowedHosts }),
          ...(handlerOptions.allowedOrigins === undefined ? {} : { allowedOrigins: handlerOptions.allowedOrigins }),
          ...(handlerOptions.authenticate === undefined ? {} : { authenticate: handlerOptions.authenticate }),
        });
  if (upgrades !== undefined) server.on('upgrade', upgrades.onUpgrade);

  const { port: boundPort, urlHost } = await bindServer(server, host, port);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${boundPort}${handlerOptions.path ?? '/mcp'}`,
    host,
    port: boundPort,
    server,
    stats: () => handler.stats(),
    stopAccepting() {
      accepting = false;
      handler.stopAccepting();
      upgrades?.stopAccepting();
    },
    close() {
      if (closing === undefined) {
        accepting = false;
        handler.close();
        upgrades?.close();
        closing = closeServer(server);
      }
      return closing;
    },
  };
}
