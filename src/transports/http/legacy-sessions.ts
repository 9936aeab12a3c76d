import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SupervisorError } from '../../jsonrpc/errors.js';
import { MCP_PROTOCOL_VERSIONS } from '../../mcp/versions.js';
import type { InboundSummary } from './frames.js';
import { header, MODERN_PROTOCOL_VERSION } from './headers.js';
import { LegacySessionTransport } from './legacy-transport.js';
import type { HttpSessionHost, ResolvedHttpOptions } from './options.js';
import { refuse } from './respond.js';
import type { HttpStatsCounter } from './stats.js';

/** What the idle reaper reads of a runtime session (a `Session` has both). */
interface BusySession {
  readonly inFlight?: number;
  readonly cancellingCount?: number;
}

interface Entry {
  readonly transport: LegacySessionTransport;
  readonly session: BusySession | undefined;
}

/** The protocol versions a legacy session accepts in `MCP-Protocol-Version`. */
const LEGACY_VERSIONS: ReadonlySet<string> = new Set(MCP_PROTOCOL_VERSIONS.filter((v) => v < MODERN_PROTOCOL_VERSION));

/**
 * The legacy (2025-11-25 and before) sessions of one HTTP handler, by `Mcp-Session-Id`: created by
 * `initialize` (at most `maxSessions`, else 503 + `Retry-After`), found by the header (unknown or
 * ended → 404), ended by `DELETE` (drain, then close) or by the idle reaper (nothing in flight and
 * no stream open for `sessionIdleTimeoutMs`).
 *
 * @example
 * ```ts
 * const sessions = new LegacySessions(supervisor, resolveHttpOptions({}), new HttpStatsCounter());
 * sessions.create(request, response, body, summarizeInbound(JSON.parse(body)));
 * ```
 */
export class LegacySessions {
  private readonly entries = new Map<string, Entry>();
  private reaper: unknown = undefined;
  private closedWritesAfterClose = 0;

  constructor(
    private readonly supervisor: HttpSessionHost,
    private readonly config: ResolvedHttpOptions,
    private readonly stats: HttpStatsCounter,
  ) {}

  /** Sessions open now (including ones draining after a DELETE). */
  get openCount(): number {
    return this.entries.size;
  }

  /** Frames offered to ended responses, over every session ever. */
  get writesAfterClose(): number {
    let sum = this.closedWritesAfterClose;
    for (const entry of this.entries.values()) sum += entry.transport.writesAfterClose;
    return sum;
  }

  private refuse(response: ServerResponse, status: number, code: number, message: string, headers?: Record<string, string>): void {
    this.stats.refused(status);
    refuse(response, status, code, message, headers === undefined ? {} : { headers });
  }

  private find(response: ServerResponse, id: string): LegacySessionTransport | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.transport.ended) {
      this.refuse(response, 404, -32600, 'Not Found: no such session');
      return undefined;
    }
    return entry.transport;
  }

  /** A version header that is not a legacy version this server speaks → 400 (spec: MUST). */
  private badVersion(request: IncomingMessage, response: ServerResponse, transport: LegacySessionTransport | undefined): boolean {
    const version = header(request, 'mcp-protocol-version');
    if (version === undefined) return false;
    if (!LEGACY_VERSIONS.has(version)) {
      this.refuse(response, 400, -32600, `Bad Request: unsupported MCP-Protocol-Version '${version}'`);
      return true;
    }
    if (transport !== undefined) transport.protocolVersion = version;
    return false;
  }

  /** `initialize` without a session id: a new session. */
  create(request: IncomingMessage, response: ServerResponse, text: string, summary: InboundSummary): void {
    if (this.entries.size >= this.config.maxSessions) {
      this.stats.sessionsRefused += 1;
      this.refuse(response, 503, -32002, 'Service Unavailable: too many sessions', { 'Retry-After': String(this.config.retryAfterSeconds) });
      return;
    }
    if (this.badVersion(request, response, undefined)) return;
    const requested = summary.params?.protocolVersion;
    const transport = new LegacySessionTransport(randomUUID(), typeof requested === 'string' ? requested : undefined, this.config, this.stats);
    let session: unknown;
    try {
      session = this.supervisor.attach(transport);
    } catch (error) {
      const notAccepting = error instanceof SupervisorError && error.code === 'ERR_NOT_ACCEPTING';
      this.refuse(response, notAccepting ? 503 : 500, notAccepting ? -32002 : -32603, notAccepting ? 'Service Unavailable' : 'Internal Server Error');
      return;
    }
    this.entries.set(transport.id, { transport, session: typeof session === 'object' && session !== null ? (session as BusySession) : undefined });
    this.stats.sessionsCreated += 1;
    transport.onClose(() => {
      this.closedWritesAfterClose += transport.writesAfterClose;
      this.entries.delete(transport.id);
      if (this.entries.size === 0) this.stopReaper();
    });
    this.startReaper();
    transport.post(request, response, text, summary, true);
  }

  /** A POST naming a session. */
  post(request: IncomingMessage, response: ServerResponse, id: string, text: string, summary: InboundSummary): void {
    const transport = this.find(response, id);
    if (transport === undefined || this.badVersion(request, response, transport)) return;
    transport.post(request, response, text, summary);
  }

  /** A GET naming a session: the standalone stream, or a resumed one (`Last-Event-ID`). */
  get(request: IncomingMessage, response: ServerResponse, id: string): void {
    const transport = this.find(response, id);
    if (transport === undefined || this.badVersion(request, response, transport)) return;
    const lastEventId = header(request, 'last-event-id');
    if (lastEventId !== undefined && this.config.eventStore !== undefined) {
      const outcome = transport.resume(response, lastEventId);
      if (outcome === 'unknown') this.refuse(response, 404, -32600, 'Not Found: unknown Last-Event-ID');
      else if (outcome === 'busy') this.refuse(response, 409, -32600, 'Conflict: that stream is open already');
      return;
    }
    if (!transport.openGetStream(response)) this.refuse(response, 409, -32600, 'Conflict: the session has a GET stream open already');
  }

  /** DELETE naming a session: it drains (in-flight answers still go out), then closes; 200 at once. */
  delete(response: ServerResponse, id: string): void {
    const transport = this.find(response, id);
    if (transport === undefined) return;
    this.stats.sessionsDeleted += 1;
    transport.end();
    response.writeHead(200, { 'Content-Length': 0 });
    response.end();
  }

  /** End every session (the listener closes). */
  closeAll(): void {
    for (const { transport } of [...this.entries.values()]) transport.end();
    this.stopReaper();
  }

  private startReaper(): void {
    const idle = this.config.sessionIdleTimeoutMs;
    if (this.reaper !== undefined || idle <= 0) return;
    const period = Math.max(5, Math.min(Math.floor(idle / 4), 60_000));
    const arm = (): void => {
      this.reaper = this.config.timers.setTimeout(tick, period);
      // The reaper alone never keeps the process alive.
      (this.reaper as { unref?: () => void }).unref?.();
    };
    const tick = (): void => {
      this.reaper = undefined;
      this.sweep(idle);
      if (this.entries.size > 0) arm();
    };
    arm();
  }

  private stopReaper(): void {
    if (this.reaper !== undefined) this.config.timers.clearTimeout(this.reaper);
    this.reaper = undefined;
  }

  /** Close the sessions that have been idle (nothing in flight, no stream open) for `idle` ms. */
  private sweep(idle: number): void {
    const now = Date.now();
    for (const { transport, session } of [...this.entries.values()]) {
      if (transport.ended) continue;
      const busy = (session?.inFlight ?? 0) > 0 || (session?.cancellingCount ?? 0) > 0 || transport.streaming;
      if (busy) transport.lastActive = now;
      else if (now - transport.lastActive >= idle) {
        this.stats.sessionsExpired += 1;
        transport.end();
      }
    }
  }
}
