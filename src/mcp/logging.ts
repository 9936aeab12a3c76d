import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import { readLocal, type RequestContext, type SessionHandle } from '../runtime/methods.js';
import { modernMetaOf } from './modern.js';

/**
 * The MCP log levels (RFC 5424 severities), least severe first.
 *
 * @example
 * ```ts
 * LOG_LEVELS.indexOf('error') > LOG_LEVELS.indexOf('info'); // true
 * ```
 */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

/**
 * One of {@link LOG_LEVELS}.
 *
 * @example
 * ```ts
 * const level: LogLevel = 'warning';
 * ```
 */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Session-local key of the legacy session's log level (`logging/setLevel`). */
const SESSION_LOG_LEVEL = 'mcp.logLevel';

const rank = (level: unknown): number => LOG_LEVELS.indexOf(level as LogLevel);

/**
 * The `logging/setLevel` handler of the legacy era: stores the level for the session.
 *
 * @example
 * ```ts
 * const methods = { 'logging/setLevel': setLogLevel };
 * ```
 */
export function setLogLevel(params: unknown, ctx: RequestContext): Record<string, never> {
  const level = typeof params === 'object' && params !== null ? (params as { level?: unknown }).level : undefined;
  if (rank(level) < 0) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid log level', { level, levels: LOG_LEVELS });
  ctx.session.locals.set(SESSION_LOG_LEVEL, level);
  return {};
}

/**
 * Send `notifications/message` for a request, on its session (in the modern era on the request's
 * own response stream). Modern: only when the request's `_meta` asked for logs
 * (`io.modelcontextprotocol/logLevel`) at this level or below. Legacy: when the session's level
 * (`logging/setLevel`, default: everything) lets it through. Returns whether it was sent.
 *
 * @example
 * ```ts
 * sendLog(ctx, 'info', { step: 'started' }, 'my-tool');
 * ```
 */
export function sendLog(ctx: RequestContext, level: LogLevel, data: unknown, logger?: string): boolean {
  const modern = modernMetaOf(ctx.message);
  const threshold = modern !== undefined ? modern.logLevel : sessionLogLevel(ctx.session);
  if (modern !== undefined && threshold === undefined) return false;
  if (threshold !== undefined && rank(level) < rank(threshold)) return false;
  if (ctx.cancelled) return false;
  const params: { level: LogLevel; data: unknown; logger?: string } = { level, data };
  if (logger !== undefined) params.logger = logger;
  return ctx.session.notify('notifications/message', params);
}

function sessionLogLevel(session: SessionHandle): string | undefined {
  return readLocal(session, SESSION_LOG_LEVEL) as string | undefined;
}
