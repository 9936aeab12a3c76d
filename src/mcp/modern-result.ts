import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import { isThenable } from '../runtime/inflight.js';
import type { MethodDefinition, MethodHandler, MethodTable, RequestContext } from '../runtime/methods.js';
import { INPUT_REQUIRED_METHODS, InputRequiredSignal, inputRequiredResult, inputScopeOf, openModernInput } from './input.js';
import { MetaKey, modernMetaOf } from './modern.js';
import type { RequestStateCodec } from './request-state.js';

/**
 * The caching hints modern list, read and discover results carry (`ttlMs`, `cacheScope`).
 *
 * @example
 * ```ts
 * const cache: CachePolicy = { ttlMs: 60_000, cacheScope: 'public' };
 * ```
 */
export interface CachePolicy {
  ttlMs: number;
  cacheScope: 'public' | 'private';
}

/** Results that carry caching hints (2026-07-28 `CacheableResult`). */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/read', 'resources/templates/list', 'server/discover']);

/** What shaping a modern result needs from its server. */
export interface ResultShape {
  readonly serverInfo: { name: string; version: string };
  readonly codec: RequestStateCodec;
  readonly cache: CachePolicy;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A complete modern result: `resultType`, the caching hints where they apply, `serverInfo` in `_meta`. */
function complete(method: string, value: unknown, shape: ResultShape): unknown {
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = { resultType: 'complete', ...value };
  if (CACHEABLE.has(method)) {
    result['ttlMs'] ??= shape.cache.ttlMs;
    result['cacheScope'] ??= shape.cache.cacheScope;
  }
  const meta = isObject(value['_meta']) ? value['_meta'] : {};
  result['_meta'] = { ...meta, [MetaKey.serverInfo]: shape.serverInfo };
  return result;
}

/**
 * Wrap one method for both eras. A legacy request runs the handler as it is (a synchronous answer
 * stays synchronous). A modern request (admitted by the dialect with a valid `_meta`) opens its
 * input scope (`inputResponses`, a verified `requestState`), and its result gets `resultType`; an
 * {@link InputRequiredSignal} becomes an `input_required` result on `tools/call`, `prompts/get` and
 * `resources/read`, and −32603 anywhere else (MRTR is not allowed there).
 *
 * @example
 * ```ts
 * const wrapped = modernMethod('tools/list', () => ({ tools: [] }), shape);
 * ```
 */
export function modernMethod(method: string, definition: MethodTable[string], shape: ResultShape): MethodDefinition {
  const handler: MethodHandler = typeof definition === 'function' ? definition : definition.handler;
  const wrapped: MethodHandler = (params, ctx) => {
    const meta = modernMetaOf(ctx.message);
    if (meta === undefined) return handler(params, ctx);
    openModernInput(ctx, meta, shape.codec);
    return runModern(method, handler, params, ctx, shape);
  };
  return typeof definition === 'function' ? { handler: wrapped } : { ...definition, handler: wrapped };
}

/**
 * Run a modern request's handler and shape its outcome. A handler that answers synchronously is
 * answered synchronously (no promise, no microtask hop); a promise gets one reaction for both
 * outcomes.
 */
function runModern(
  method: string,
  handler: MethodHandler,
  params: unknown,
  ctx: RequestContext,
  shape: ResultShape,
): unknown {
  let out: unknown;
  try {
    out = handler(params, ctx);
  } catch (error) {
    return modernFailure(method, error, ctx, shape);
  }
  if (!isThenable(out)) return complete(method, out, shape);
  return Promise.resolve(out).then(
    (value) => complete(method, value, shape),
    (error: unknown) => modernFailure(method, error, ctx, shape),
  );
}

/** A thrown {@link InputRequiredSignal} becomes the `input_required` result where MRTR is allowed; anything else goes on up. */
function modernFailure(method: string, error: unknown, ctx: RequestContext, shape: ResultShape): unknown {
  if (!(error instanceof InputRequiredSignal)) throw error;
  if (!INPUT_REQUIRED_METHODS.has(method)) {
    throw new JsonRpcError(ErrorCode.InternalError, `${method} cannot ask the client for input`);
  }
  return inputRequiredResult(error, inputScopeOf(ctx), ctx, shape.codec);
}
