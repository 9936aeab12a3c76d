/**
 * What a server does with the requests of a client whose connection went away.
 * - `cancel`: cancel every in-flight request (its `AbortSignal` aborts).
 * - `continue`: let them run; the client may resume the stream or ask again.
 *
 * @example
 * ```ts
 * const action: DisconnectAction = 'cancel';
 * ```
 */
export type DisconnectAction = 'cancel' | 'continue';

/**
 * One row of the disconnect policy: for a transport kind, from a protocol version on, what a
 * disconnect means.
 *
 * @example
 * ```ts
 * const rule: DisconnectRule = { transport: 'ws', since: '2024-10-07', action: 'cancel', why: 'the output is gone' };
 * ```
 */
export interface DisconnectRule {
  /** The transport kind (`stdio`, `ws`, `streamable-http`, …) or `*` for any. */
  readonly transport: string;
  /** The first protocol version (a `YYYY-MM-DD` date) the row applies to. */
  readonly since: string;
  readonly action: DisconnectAction;
  /** The rule's source, for logs and docs. */
  readonly why: string;
}

/**
 * The disconnect policy as data: rows are matched by transport, then the newest `since` that is not
 * after the session's protocol version wins.
 *
 * - Streamable HTTP: the MCP spec of 2026-07-28 says a disconnect MUST be treated as cancellation;
 *   earlier versions say it SHOULD NOT be (the client may resume the stream).
 * - stdio and WebSocket: the output is gone with the connection, so nothing could be answered; cancel.
 *
 * @example
 * ```ts
 * import { MCP_DISCONNECT_POLICY } from 'session-supervisor/mcp';
 * MCP_DISCONNECT_POLICY.filter((rule) => rule.transport === 'streamable-http');
 * ```
 */
export const MCP_DISCONNECT_POLICY: readonly DisconnectRule[] = [
  { transport: 'streamable-http', since: '2026-07-28', action: 'cancel', why: 'spec 2026-07-28: a disconnect MUST be treated as cancellation' },
  { transport: 'streamable-http', since: '0000-00-00', action: 'continue', why: 'spec before 2026-07-28: a disconnect SHOULD NOT be treated as cancellation' },
  { transport: 'stdio', since: '0000-00-00', action: 'cancel', why: 'the output is gone: nothing can be answered' },
  { transport: '*', since: '0000-00-00', action: 'cancel', why: 'the output is gone: nothing can be answered' },
];

/**
 * Look up the disconnect action for a transport kind and a negotiated protocol version (unknown
 * version: the latest row of the transport).
 *
 * @example
 * ```ts
 * disconnectAction('streamable-http', '2025-06-18'); // 'continue'
 * disconnectAction('streamable-http', '2026-07-28'); // 'cancel'
 * disconnectAction('stdio', '2025-06-18'); // 'cancel'
 * ```
 */
export function disconnectAction(
  transport: string,
  protocolVersion: string | undefined,
  policy: readonly DisconnectRule[] = MCP_DISCONNECT_POLICY,
): DisconnectAction {
  const own = policy.filter((rule) => rule.transport === transport);
  const rows = own.length > 0 ? own : policy.filter((rule) => rule.transport === '*');
  let best: DisconnectRule | undefined;
  for (const rule of rows) {
    const applies = protocolVersion === undefined || rule.since <= protocolVersion;
    if (applies && (best === undefined || rule.since > best.since)) best = rule;
  }
  return best?.action ?? 'cancel';
}
