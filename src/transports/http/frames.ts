import type { RequestId } from '../../../machines/handler.js';

/**
 * What an outbound frame is, as far as routing it to an HTTP response goes: an answer (a response,
 * with its id; `null` for an error that names no request), a batch answer (a JSON array), or a
 * message (a notification or a request the server sends).
 *
 * @example
 * ```ts
 * const kind: OutboundKind = { kind: 'answer', id: 1, errorCode: -32601 };
 * ```
 */
export type OutboundKind =
  | { kind: 'answer'; id: RequestId | null; errorCode: number | undefined }
  | { kind: 'batch' }
  | { kind: 'message' };

const MESSAGE: OutboundKind = { kind: 'message' };
const BATCH: OutboundKind = { kind: 'batch' };
const NOTIFICATION_PREFIX = '{"jsonrpc":"2.0","method":';
const ID_PREFIX = '{"jsonrpc":"2.0","id":';

/** Where the id token after `{"jsonrpc":"2.0","id":` (the runtime's own encoding) ends; `-1` if unsure. */
function idEnd(frame: string): number {
  let i = ID_PREFIX.length;
  if (frame.charCodeAt(i) === 0x22 /* " */) {
    i += 1;
    while (i < frame.length) {
      const c = frame.charCodeAt(i);
      if (c === 0x5c /* \ */) i += 2;
      else if (c === 0x22) break;
      else i += 1;
    }
    return i >= frame.length ? -1 : i + 1;
  }
  const comma = frame.indexOf(',', i);
  if (comma <= i) return -1;
  const token = frame.slice(i, comma);
  return token === 'null' || Number.isFinite(Number(token)) ? comma : -1;
}

/** The id token that ends at `end` (see {@link idEnd}), parsed. */
function idBefore(frame: string, end: number): RequestId | null {
  const token = frame.slice(ID_PREFIX.length, end);
  if (token.charCodeAt(0) === 0x22) return JSON.parse(token) as string;
  return token === 'null' ? null : Number(token);
}

const ERROR_CODE = ',"error":{"code":';

/** The error code right after `,"error":{"code":` at `at`; `undefined` if it is not there. */
function errorCodeAt(frame: string, at: number): number | undefined {
  if (!frame.startsWith(ERROR_CODE, at)) return undefined;
  const start = at + ERROR_CODE.length;
  const code = Number.parseInt(frame.slice(start, start + 12), 10);
  return Number.isSafeInteger(code) ? code : undefined;
}

const SHAPE_MESSAGE = -1;
const SHAPE_BATCH = -2;
const SHAPE_UNSURE = -3;

/**
 * An outbound frame in the runtime's own encoding (`{"jsonrpc":"2.0","id":…,"result"|"error":…}`,
 * `{"jsonrpc":"2.0","method":…}`, a batch), read without parsing: `SHAPE_MESSAGE`, `SHAPE_BATCH`,
 * an answer as the end of its id token (≥ 0), or `SHAPE_UNSURE` (parse it).
 */
function fastShape(frame: string): number {
  if (frame.startsWith(NOTIFICATION_PREFIX)) return SHAPE_MESSAGE;
  if (frame.charCodeAt(0) === 0x5b /* [ */) return SHAPE_BATCH;
  if (!frame.startsWith(ID_PREFIX)) return SHAPE_UNSURE;
  const end = idEnd(frame);
  if (end < 0) return SHAPE_UNSURE;
  if (frame.startsWith(',"result":', end) || errorCodeAt(frame, end) !== undefined) return end;
  return frame.startsWith(',"method":', end) ? SHAPE_MESSAGE : SHAPE_UNSURE;
}

function slowClassify(frame: string): OutboundKind {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return MESSAGE;
  }
  if (Array.isArray(value)) return BATCH;
  if (typeof value !== 'object' || value === null) return MESSAGE;
  const message = value as { method?: unknown; id?: unknown; error?: { code?: unknown } };
  if (typeof message.method === 'string') return MESSAGE;
  const id = message.id;
  const code = typeof message.error === 'object' && message.error !== null ? message.error.code : undefined;
  return { kind: 'answer', id: typeof id === 'string' || typeof id === 'number' ? id : null, errorCode: typeof code === 'number' ? code : undefined };
}

/**
 * Classify an outbound frame without parsing it when it has the runtime's own shape
 * (`{"jsonrpc":"2.0","id":…,"result"|"error":…}` or `{"jsonrpc":"2.0","method":…}`); anything
 * else is parsed.
 *
 * @example
 * ```ts
 * classifyOutbound('{"jsonrpc":"2.0","id":7,"result":{}}'); // { kind: 'answer', id: 7, errorCode: undefined }
 * classifyOutbound('{"jsonrpc":"2.0","method":"notifications/progress"}'); // { kind: 'message' }
 * ```
 */
export function classifyOutbound(frame: string): OutboundKind {
  const shape = fastShape(frame);
  if (shape >= 0) return { kind: 'answer', id: idBefore(frame, shape), errorCode: errorCodeAt(frame, shape) };
  if (shape === SHAPE_MESSAGE) return MESSAGE;
  if (shape === SHAPE_BATCH) return BATCH;
  return slowClassify(frame);
}

/**
 * What a one-exchange response needs of an outbound frame: whether it is the answer (a response or
 * a batch answer) and, for an error answer, its code — {@link classifyOutbound} without the id, so
 * a result answer or a message in the runtime's own encoding costs no allocation (shared objects).
 *
 * @example
 * ```ts
 * exchangeOutbound('{"jsonrpc":"2.0","id":7,"result":{}}'); // { answer: true, errorCode: undefined }
 * exchangeOutbound('{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"…"}}'); // { answer: true, errorCode: -32601 }
 * ```
 */
export function exchangeOutbound(frame: string): ExchangeOutbound {
  const shape = fastShape(frame);
  if (shape >= 0) {
    const code = errorCodeAt(frame, shape);
    return code === undefined ? RESULT_ANSWER : { answer: true, errorCode: code };
  }
  if (shape === SHAPE_MESSAGE) return NOT_ANSWER;
  if (shape === SHAPE_BATCH) return RESULT_ANSWER;
  const kind = slowClassify(frame);
  return kind.kind === 'message' ? NOT_ANSWER : kind.kind === 'batch' ? RESULT_ANSWER : { answer: true, errorCode: kind.errorCode };
}

/** See {@link exchangeOutbound}. */
export interface ExchangeOutbound {
  readonly answer: boolean;
  readonly errorCode: number | undefined;
}

const NOT_ANSWER: ExchangeOutbound = Object.freeze({ answer: false, errorCode: undefined });
const RESULT_ANSWER: ExchangeOutbound = Object.freeze({ answer: true, errorCode: undefined });

/**
 * What the handler learned from a POST body before handing it to the runtime.
 *
 * @example
 * ```ts
 * const summary: InboundSummary = summarizeInbound(JSON.parse(body));
 * summary.expectsAnswer; // false for a notification → 202
 * ```
 */
export interface InboundSummary {
  /** `true` for a JSON array (a batch). */
  readonly batch: boolean;
  /** Ids of the requests in it (in order). */
  readonly requestIds: RequestId[];
  /** Whether the runtime will answer something (requests, or an invalid message it answers with `id: null`). */
  readonly expectsAnswer: boolean;
  /** The single message's `method`, when the body is one object with a string `method`. */
  readonly method: string | undefined;
  /** The single message's `params`, when it is an object. */
  readonly params: Record<string, unknown> | undefined;
  /** The body as parsed (what the session dispatches, without parsing it again). */
  readonly message: unknown;
}

const isId = (id: unknown): id is RequestId => typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

/**
 * Summarize a parsed POST body (one message or a batch) for routing and header checks.
 *
 * @example
 * ```ts
 * summarizeInbound({ jsonrpc: '2.0', id: 1, method: 'tools/list' }).requestIds; // [1]
 * ```
 */
export function summarizeInbound(value: unknown): InboundSummary {
  if (Array.isArray(value)) {
    const requestIds: RequestId[] = [];
    let answers = value.length === 0;
    for (const item of value) {
      const message = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : undefined;
      if (message !== undefined && typeof message.method === 'string') {
        if ('id' in message) {
          if (isId(message.id)) requestIds.push(message.id);
          answers = true;
        }
      } else if (message === undefined || !('result' in message || 'error' in message)) {
        answers = true;
      }
    }
    return { batch: true, requestIds, expectsAnswer: answers || requestIds.length > 0, method: undefined, params: undefined, message: value };
  }
  const message = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  if (message === undefined) return { batch: false, requestIds: [], expectsAnswer: true, method: undefined, params: undefined, message: value };
  const method = typeof message.method === 'string' ? message.method : undefined;
  const params = typeof message.params === 'object' && message.params !== null && !Array.isArray(message.params)
    ? (message.params as Record<string, unknown>)
    : undefined;
  if (method !== undefined) {
    const isRequest = 'id' in message;
    return { batch: false, requestIds: isRequest && isId(message.id) ? [message.id] : [], expectsAnswer: isRequest, method, params, message: value };
  }
  const isResponse = ('result' in message || 'error' in message) && 'id' in message;
  return { batch: false, requestIds: [], expectsAnswer: !isResponse, method: undefined, params, message: value };
}
