import type { RequestId } from '../../machines/handler.js';
import type { CancelReason } from '../../machines/reasons.js';
import { ErrorCode, type JsonRpcErrorObject } from '../jsonrpc/errors.js';
import type { JsonRpcRequest } from '../jsonrpc/schema.js';
import type { SessionHandle } from './methods.js';

/**
 * A dialect plugs protocol rules into the runtime: which notification cancels a request, what
 * answer goes out after a cancel (by reason), and which requests a session admits. The runtime
 * knows JSON-RPC; dialects (plain JSON-RPC, MCP) know the rest.
 *
 * @example
 * ```ts
 * const quiet: Dialect = { ...jsonRpcDialect, name: 'quiet', responseOnCancel: () => undefined };
 * ```
 */
export interface Dialect {
  readonly name: string;
  /** The notification a peer sends to cancel one of its requests, and how to read the id from it. */
  readonly cancelNotification?: {
    readonly method: string;
    requestId(params: unknown): RequestId | undefined;
  };
  /** The error to answer a cancelled request with (while the output works), or `undefined`: none. */
  responseOnCancel(reason: CancelReason): JsonRpcErrorObject | undefined;
  /** Refuse a request before it runs (an error), or admit it (`undefined`). */
  admit?(request: JsonRpcRequest, session: SessionHandle): JsonRpcErrorObject | undefined;
  /** Whether the peer may cancel this method (MCP: `initialize` cannot be cancelled). */
  cancellable?(method: string): boolean;
  /** Accept JSON-RPC batches (arrays). Off: a batch is −32600. */
  readonly batches?: boolean;
}

/**
 * Plain JSON-RPC 2.0 in the LSP style: `$/cancelRequest { id }` cancels; a cancelled request is
 * answered −32800 (−32001 for a request timeout) whenever the output still works.
 *
 * @example
 * ```ts
 * createSupervisor({ methods, dialect: jsonRpcDialect });
 * ```
 */
export const jsonRpcDialect: Dialect = {
  name: 'jsonrpc',
  cancelNotification: {
    method: '$/cancelRequest',
    requestId(params) {
      if (typeof params !== 'object' || params === null) return undefined;
      const id = (params as { id?: unknown }).id;
      return typeof id === 'string' || typeof id === 'number' ? id : undefined;
    },
  },
  responseOnCancel(reason) {
    switch (reason) {
      case 'request-timeout':
        return { code: ErrorCode.RequestTimeout, message: 'Request timed out' };
      case 'client':
      case 'drain-timeout':
      case 'shutdown':
        return { code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason } };
      case 'transport-closed':
      case 'session-failed':
        return undefined;
    }
  },
};
