/**
 * JSON-RPC error codes used on the wire. The standard ones (−32700…−32603), the server range
 * (−32000…−32099) for this library's own refusals, and −32800 (request cancelled, LSP style).
 *
 * @example
 * ```ts
 * import { ErrorCode } from 'session-supervisor';
 * ErrorCode.MethodNotFound; // -32601
 * ```
 */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  SessionDraining: -32000,
  RequestTimeout: -32001,
  Overloaded: -32002,
  DuplicateRequestId: -32003,
  MessageTooLarge: -32004,
  NotInitialized: -32005,
  RequestCancelled: -32800,
} as const;

/**
 * One of the numeric codes in {@link ErrorCode}.
 *
 * @example
 * ```ts
 * const code: ErrorCodeValue = ErrorCode.InternalError;
 * ```
 */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The `error` member of a JSON-RPC error response.
 *
 * @example
 * ```ts
 * const e: JsonRpcErrorObject = { code: -32601, message: 'Method not found' };
 * ```
 */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * A wire error: it carries a JSON-RPC numeric `code` (and optional `data`) and serializes to the
 * `error` member of a response. Throw it from a handler to answer with exactly that error.
 *
 * @example
 * ```ts
 * import { JsonRpcError, ErrorCode } from 'session-supervisor';
 * throw new JsonRpcError(ErrorCode.InvalidParams, 'text must not be empty');
 * ```
 */
export class JsonRpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'JsonRpcError';
    this.code = code;
    this.data = data;
  }

  /** The `error` member of a response. */
  toJSON(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

/**
 * Stable string codes of local errors (thrown to the library's caller, never sent on the wire).
 *
 * @example
 * ```ts
 * if (err instanceof SupervisorError && err.code === 'ERR_NOT_ACCEPTING') retryLater();
 * ```
 */
export type SupervisorErrorCode =
  | 'ERR_NOT_ACCEPTING'
  | 'ERR_SESSION_CLOSED'
  | 'ERR_REQUEST_CANCELLED'
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_INVALID_OPTION'
  | 'ERR_TRANSPORT_IN_USE';

/**
 * A local error with a stable string `code`.
 *
 * @example
 * ```ts
 * import { SupervisorError } from 'session-supervisor';
 * throw new SupervisorError('ERR_INVALID_OPTION', 'drainTimeoutMs must be >= 0');
 * ```
 */
export class SupervisorError extends Error {
  readonly code: SupervisorErrorCode;

  constructor(code: SupervisorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SupervisorError';
    this.code = code;
  }
}
