import type { IncomingMessage, ServerResponse } from 'node:http';
import { SupervisorError } from '../../jsonrpc/errors.js';
import { authenticateRequest, resolveHostPolicy, type HostPolicy } from '../request-guard.js';
import { BodyReaders, type BodyOutcome } from './body.js';
import { HttpExchangeTransport } from './exchange.js';
import { summarizeInbound, type InboundSummary } from './frames.js';
import { acceptsAll, checkRequestHeaders, header, isJsonContentType, metaProtocolVersion, MODERN_PROTOCOL_VERSION } from './headers.js';
import { LegacySessions } from './legacy-sessions.js';
import { resolveHttpOptions, type HttpHandlerOptions, type HttpSessionHost, type ResolvedHttpOptions } from './options.js';
import { refuse } from './respond.js';
import { HttpStatsCounter, type HttpStats } from './stats.js';

/** What a GET (an SSE stream) and a POST (JSON or SSE answers) must accept. */
const acceptsSse = acceptsAll(['text/event-stream']);
const acceptsJsonAndSse = acceptsAll(['application/json', 'text/event-stream']);

/**
 * A request handler for the MCP endpoint, to mount in a `node:http` server, Express or Fastify
 * (`(req, res, next?)`): requests for another path go to `next` (or get 404 without one).
 *
 * @example
 * ```ts
 * const handler = createHttpHandler(supervisor);
 * createServer((req, res) => handler(req, res)).listen(3000, '127.0.0.1');
 * handler.stats().sessions.open;
 * ```
 */
export interface HttpHandler {
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void;
  /** Counts: legacy sessions, exchanges, refusals by status. */
  stats(): HttpStats;
  /** Refuse every further request with 503; open exchanges and sessions go on. */
  stopAccepting(): void;
  /** Stop accepting, end every legacy session and stop the idle reaper. */
  close(): void;
}

/**
 * The options a handler needs to know where it is bound (for the host/origin defaults).
 *
 * @example
 * ```ts
 * createHttpHandler(supervisor, { host: '0.0.0.0', allowedHosts: ['mcp.example.com'] });
 * ```
 */
export interface HttpHandlerBinding {
  /** The address the server is bound to; loopback → loopback-only `Host` / `Origin` defaults. Default `'127.0.0.1'`. */
  host?: string;
}

const isNotAccepting = (error: unknown): boolean => error instanceof SupervisorError && error.code === 'ERR_NOT_ACCEPTING';

/** Whether the path part of `url` is `path`. */
function pathMatches(url: string | undefined, path: string): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)) === path;
}

/** A `MCP-Protocol-Version` that names a legacy (session-based) version. */
function isLegacyVersion(version: string | undefined): boolean {
  return version !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(version) && version < MODERN_PROTOCOL_VERSION;
}

class Handler {
  readonly stats = new HttpStatsCounter();
  readonly legacy: LegacySessions;
  readonly bodies: BodyReaders;
  private accepting = true;
  private readonly exchangeClosed = (exchange: HttpExchangeTransport): void => this.stats.exchangeClosed(exchange);

  constructor(
    private readonly supervisor: HttpSessionHost,
    private readonly config: ResolvedHttpOptions,
    private readonly hosts: HostPolicy,
    private readonly authenticate: HttpHandlerOptions['authenticate'],
  ) {
    this.legacy = new LegacySessions(supervisor, config, this.stats);
    this.bodies = new BodyReaders(config);
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  close(): void {
    this.accepting = false;
    this.legacy.closeAll();
  }

  private refuse(response: ServerResponse, status: number, code: number, message: string, options?: Parameters<typeof refuse>[4]): void {
    this.stats.refused(status);
    refuse(response, status, code, message, options);
  }

  private unavailable(response: ServerResponse, message = 'Service Unavailable: not accepting requests'): void {
    this.refuse(response, 503, -32002, message, {
      headers: { 'Retry-After': String(this.config.retryAfterSeconds) },
      data: { retryAfterMs: this.config.retryAfterSeconds * 1000 },
    });
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const refusal = this.hosts.check(request);
    if (refusal !== undefined) return this.refuse(response, 403, -32600, `Forbidden: ${refusal} not allowed`);
    if (this.authenticate === undefined) return this.route(request, response);
    // authenticateRequest never rejects; the catch answers a throw from the route below.
    authenticateRequest(this.authenticate, request)
      .then((verdict) => {
        if (verdict === 'error') return this.refuse(response, 500, -32603, 'Internal Server Error: authentication failed');
        if (verdict === 'unauthorized') return this.refuse(response, 401, -32600, 'Unauthorized');
        this.route(request, response);
      })
      .catch((error: unknown) => this.failed(response, error));
  }

  /** A bug below the handler: 500 if nothing went out yet, else the response is cut. */
  failed(response: ServerResponse, error: unknown): void {
    if (!response.headersSent) refuse(response, 500, -32603, 'Internal Server Error');
    else response.destroy(error instanceof Error ? error : undefined);
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const sessionId = header(request, 'mcp-session-id');
    switch (request.method) {
      case 'POST':
        return this.post(request, response, sessionId);
      case 'GET':
        if (sessionId === undefined) return this.methodNotAllowed(response);
        if (!acceptsSse(header(request, 'accept'))) {
          return this.refuse(response, 406, -32600, 'Not Acceptable: the client must accept text/event-stream');
        }
        return this.legacy.get(request, response, sessionId);
      case 'DELETE':
        if (sessionId === undefined) return this.methodNotAllowed(response);
        return this.legacy.delete(response, sessionId);
      default:
        return this.methodNotAllowed(response);
    }
  }

  private methodNotAllowed(response: ServerResponse): void {
    this.refuse(response, 405, -32600, 'Method Not Allowed', { headers: { Allow: 'POST' } });
  }

  private post(request: IncomingMessage, response: ServerResponse, sessionId: string | undefined): void {
    if (!isJsonContentType(header(request, 'content-type'))) {
      return this.refuse(response, 415, -32600, 'Unsupported Media Type: the body must be application/json', { close: true });
    }
    if (!acceptsJsonAndSse(header(request, 'accept'))) {
      return this.refuse(response, 406, -32600, 'Not Acceptable: the client must accept application/json and text/event-stream', {
        close: true,
      });
    }
    this.bodies.read(request, (body) => {
      // Called from the request's 'end' listener: a throw here must become an answer, not a crash.
      try {
        this.posted(request, response, sessionId, body);
      } catch (error) {
        this.failed(response, error);
      }
    });
  }

  private posted(request: IncomingMessage, response: ServerResponse, sessionId: string | undefined, body: BodyOutcome): void {
    if (!body.ok) {
      const code = body.status === 413 ? -32004 : body.status === 400 ? -32700 : -32600;
      return this.refuse(response, body.status, code, body.message, { close: true });
    }
    let value: unknown;
    try {
      value = JSON.parse(body.text);
    } catch {
      return this.refuse(response, 400, -32700, 'Parse error');
    }
    const summary = summarizeInbound(value);
    if (sessionId !== undefined) return this.legacy.post(request, response, sessionId, body.text, summary);
    const headerVersion = header(request, 'mcp-protocol-version');
    const modernRequest = (headerVersion !== undefined && headerVersion >= MODERN_PROTOCOL_VERSION) || metaProtocolVersion(summary.params) !== undefined;
    if (summary.method === 'initialize' && !summary.batch && !modernRequest) {
      if (!this.admits()) return this.unavailable(response);
      return this.legacy.create(request, response, body.text, summary);
    }
    if (!modernRequest && isLegacyVersion(headerVersion)) {
      return this.refuse(response, 400, -32600, 'Bad Request: Mcp-Session-Id header is required');
    }
    return this.modern(request, response, body.text, summary);
  }

  private admits(): boolean {
    return this.accepting && this.supervisor.accepting;
  }

  private modern(request: IncomingMessage, response: ServerResponse, text: string, summary: InboundSummary): void {
    const mismatch = checkRequestHeaders(request, summary) ?? this.config.checkHeaders?.(request, summary.message);
    if (mismatch !== undefined) {
      const id = summary.requestIds[0] ?? null;
      return this.refuse(response, 400, -32020, `Header mismatch: ${mismatch}`, { id });
    }
    if (!this.admits()) return this.unavailable(response);
    const transport = new HttpExchangeTransport(request, response, text, summary, this.config, this.exchangeClosed);
    this.stats.exchangeOpened(transport);
    try {
      this.supervisor.attach(transport);
    } catch (error) {
      this.stats.exchangeClosed(transport);
      if (isNotAccepting(error)) return this.unavailable(response);
      return this.refuse(response, 500, -32603, 'Internal Server Error');
    }
  }
}

/**
 * Create the Streamable HTTP handler of a supervisor: both MCP eras on one endpoint, chosen per
 * request.
 *
 * - **Modern (2026-07-28)**: a POST without `Mcp-Session-Id` (and not `initialize`) is one
 *   exchange — a short-lived session over an {@link HttpExchangeTransport}. JSON answer, or SSE when
 *   something goes out before it; the client closing the response cancels the handler
 *   (`transport-closed`). `Mcp-Method` / `Mcp-Name` / `MCP-Protocol-Version` are checked against
 *   the body (400, −32020). GET and DELETE without a session → 405.
 * - **Legacy (2025-11-25, 2025-06-18, 2025-03-26)**: `initialize` creates a session with an
 *   unguessable `Mcp-Session-Id`; later POSTs, the GET stream and DELETE name it (unknown → 404;
 *   a legacy `MCP-Protocol-Version` without it → 400). Streams resume with `Last-Event-ID`.
 * - Refusals before any actor exists: `Host` / `Origin` not allowed → 403; `authenticate` false →
 *   401; wrong `Content-Type` → 415; `Accept` without JSON and SSE → 406; body over `maxBodyBytes`
 *   → 413; slow body → 408; malformed JSON → 400 (−32700, `id: null`); not accepting or
 *   `maxSessions` reached → 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHttpHandler } from 'session-supervisor/http';
 *
 * const handler = createHttpHandler(supervisor, { path: '/mcp' });
 * const server = createServer((req, res) => handler(req, res, () => res.writeHead(404).end()));
 * server.listen(3000, '127.0.0.1');
 * ```
 */
export function createHttpHandler(supervisor: HttpSessionHost, options: HttpHandlerOptions & HttpHandlerBinding = {}): HttpHandler {
  const mcp = supervisor.mcp;
  const config = resolveHttpOptions(
    options.checkHeaders !== undefined || mcp?.checkHeaders === undefined
      ? options
      : { ...options, checkHeaders: (request, message) => mcp.checkHeaders?.(request, message) },
  );
  const hosts = resolveHostPolicy(options.host ?? '127.0.0.1', options);
  const handler = new Handler(supervisor, config, hosts, options.authenticate);
  const fn = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void => {
    if (!pathMatches(request.url, config.path)) {
      if (next !== undefined) next();
      else refuse(response, 404, -32600, 'Not Found');
      return;
    }
    try {
      handler.handle(request, response);
    } catch (error) {
      handler.failed(response, error);
    }
  };
  return Object.assign(fn, {
    stats: () => handler.stats.snapshot(handler.legacy, handler.bodies.reading),
    stopAccepting: () => handler.stopAccepting(),
    close: () => handler.close(),
  });
}
