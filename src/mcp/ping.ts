import type { Session } from '../runtime/session.js';

/**
 * Ping the client (MCP `ping` from the server): resolves once the client answered; rejects with
 * `ERR_SESSION_CLOSED` when the session closes first, `ERR_REQUEST_TIMEOUT` after `timeoutMs`
 * (default 5000), or the client's error.
 *
 * @example
 * ```ts
 * for (const session of server.sessions()) await pingClient(session, { timeoutMs: 2000 });
 * ```
 */
export async function pingClient(session: Session, options: { timeoutMs?: number } = {}): Promise<void> {
  await session.request('ping', undefined, { timeoutMs: options.timeoutMs ?? 5000 });
}
