import { SupervisorError } from '../jsonrpc/errors.js';
import type { Session } from '../runtime/session.js';
import type { Supervisor } from '../supervisor.js';
import { createStdioTransport, type StdioTransportOptions } from './stdio/transport.js';

export { createStdioTransport, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_LINE_BYTES } from './stdio/transport.js';
export type { StdioTransport, StdioTransportOptions } from './stdio/transport.js';
export { LineSplitter } from './stdio/line-splitter.js';
export type { LineSink } from './stdio/line-splitter.js';

/**
 * Serve one session over stdin/stdout: attach a stdio transport to the supervisor. The line cap
 * defaults to the supervisor's `limits.maxMessageBytes`.
 *
 * When stdin ends, the session drains (answers to requests in flight are still written, bounded by
 * `drainTimeoutMs`), then stdout is ended and stdin released, so the process exits by itself once
 * nothing else keeps it alive. When the reader of stdout goes away (EPIPE), the session closes and
 * its handlers are cancelled with `transport-closed`; the process does not crash.
 *
 * Nothing else may write to stdout: it carries the protocol. Log to stderr. Throws
 * `ERR_NOT_ACCEPTING` once the supervisor drains or stopped, and `ERR_TRANSPORT_IN_USE` while
 * another transport reads the same input.
 *
 * @example
 * ```ts
 * import { createSupervisor, shutdownOnSignals } from 'session-supervisor';
 * import { serveStdio } from 'session-supervisor/stdio';
 *
 * const supervisor = createSupervisor({ methods: { echo: (params) => params } });
 * const session = serveStdio(supervisor);
 * shutdownOnSignals(supervisor);
 * await session.closed;
 * ```
 */
export function serveStdio(supervisor: Supervisor, options: StdioTransportOptions = {}): Session {
  // Checked before the transport claims stdin, so a refused call leaves stdin free for another.
  if (!supervisor.accepting) throw new SupervisorError('ERR_NOT_ACCEPTING', `supervisor is ${supervisor.state}; no new sessions`);
  const transport = createStdioTransport({ maxLineBytes: supervisor.limits.maxMessageBytes, ...options });
  return supervisor.attach(transport);
}
