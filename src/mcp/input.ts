import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import { readLocal, type RequestContext, type SessionHandle } from '../runtime/methods.js';
import { missingCapabilityError, modernMetaOf, type ModernRequestMeta } from './modern.js';
import type { RequestStateCodec } from './request-state.js';

/**
 * A request a server needs the client to answer before it can finish: an elicitation, a sampling
 * request or a roots listing (the three input requests MCP knows).
 *
 * @example
 * ```ts
 * const ask: InputRequest = { method: 'elicitation/create', params: { mode: 'form', message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } } };
 * ```
 */
export type InputRequest =
  | { method: 'elicitation/create'; params: Record<string, unknown> }
  | { method: 'sampling/createMessage'; params: Record<string, unknown> }
  | { method: 'roots/list'; params?: Record<string, unknown> };

/**
 * The client capability each input request needs.
 *
 * @example
 * ```ts
 * CAPABILITY['elicitation/create']; // 'elicitation'
 * ```
 */
export const CAPABILITY: Record<InputRequest['method'], string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/**
 * Throw −32021 when `capabilities` (what the client declared) lacks one that `requests` need.
 *
 * @example
 * ```ts
 * requireInputCapabilities({ elicitation: {} }, { ok: { method: 'sampling/createMessage', params } }); // throws: sampling
 * ```
 */
export function requireInputCapabilities(capabilities: Readonly<Record<string, unknown>>, requests: Record<string, InputRequest>): void {
  requireCapabilities(capabilities, new Set(Object.values(requests).map((request) => CAPABILITY[request.method])));
}

/** Throw −32021 naming those of `names` that `capabilities` lacks. */
function requireCapabilities(capabilities: Readonly<Record<string, unknown>>, names: Iterable<string>): void {
  const missing = [...names].filter((name) => capabilities[name] === undefined);
  if (missing.length > 0) {
    const error = missingCapabilityError(missing);
    throw new JsonRpcError(error.code, error.message, error.data);
  }
}

/** The methods that may answer with an `input_required` result (2026-07-28 MRTR). */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/**
 * Thrown by {@link McpInput.input} in the modern era when the client has not answered yet: the
 * server turns it into an `input_required` result, and the client retries with the answers.
 * Let it propagate (don't catch it in a tool).
 *
 * @example
 * ```ts
 * try { await input.elicit('name', params); } catch (e) { if (e instanceof InputRequiredSignal) throw e; }
 * ```
 */
export class InputRequiredSignal extends Error {
  readonly code = 'ERR_INPUT_REQUIRED';
  constructor(readonly inputRequests: Record<string, InputRequest>) {
    super(`input required: ${Object.keys(inputRequests).join(', ')}`);
    this.name = 'InputRequiredSignal';
  }
}

/**
 * Input requests from a handler, in both eras: in the modern era (2026-07-28) a missing answer
 * ends the request with an `input_required` result and the client retries with `inputResponses`
 * (multi-round-trip requests); the handler runs again from the start and gets the answers. In the
 * legacy era the requests go to the client as server-to-client requests on the session.
 *
 * @example
 * ```ts
 * const run = async (_args: {}, ctx: ToolContext) => {
 *   const answer = (await ctx.elicit('name', { mode: 'form', message: 'Your name?', requestedSchema })) as { content?: { name?: string } };
 *   return `hello ${answer.content?.name}`;
 * };
 * ```
 */
export interface McpInput {
  /** `modern` when the request carried the 2026-07-28 `_meta`, else `legacy`. */
  readonly era: 'modern' | 'legacy';
  /** The client's capabilities (modern: from this request's `_meta`; legacy: from `initialize`). */
  readonly clientCapabilities: Readonly<Record<string, unknown>>;
  /** Rounds of input this request has been through (0 on a first call; modern era). */
  readonly round: number;
  /** Get answers to all `requests` (keys are yours, unique per request). */
  input(requests: Record<string, InputRequest>): Promise<Record<string, unknown>>;
  /** Ask the user (`elicitation/create`). */
  elicit(key: string, params: Record<string, unknown>): Promise<unknown>;
  /** Ask the client's model (`sampling/createMessage`). */
  sample(key: string, params: Record<string, unknown>): Promise<unknown>;
  /** Ask for the client's roots (`roots/list`). */
  listRoots(key: string): Promise<unknown>;
  /** Throw −32021 unless the client declared every capability named. */
  requireCapabilities(...names: string[]): void;
}

/** What a session must offer to send legacy server-to-client requests. */
interface RequestingSession extends SessionHandle {
  request(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
}

const canRequest = (session: SessionHandle): session is RequestingSession =>
  typeof (session as Partial<RequestingSession>).request === 'function';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Session-local key of the legacy client's capabilities (set when `initialize` is answered). */
export const CLIENT_CAPABILITIES = 'mcp.clientCapabilities';

class InputScope implements McpInput {
  /** Keys asked for and answered in this run: what the next `requestState` carries. */
  readonly used: Record<string, unknown> = {};

  constructor(
    readonly era: 'modern' | 'legacy',
    readonly clientCapabilities: Readonly<Record<string, unknown>>,
    readonly round: number,
    private readonly answers: Readonly<Record<string, unknown>>,
    private readonly ctx: RequestContext,
  ) {}

  requireCapabilities(...names: string[]): void {
    requireCapabilities(this.clientCapabilities, names);
  }

  async input(requests: Record<string, InputRequest>): Promise<Record<string, unknown>> {
    requireInputCapabilities(this.clientCapabilities, requests);
    if (this.era === 'legacy') return this.askSession(requests);
    const missing: Record<string, InputRequest> = {};
    const found: Record<string, unknown> = {};
    for (const [key, request] of Object.entries(requests)) {
      if (Object.hasOwn(this.answers, key)) found[key] = this.answers[key];
      else missing[key] = request;
    }
    if (Object.keys(missing).length > 0) throw new InputRequiredSignal(missing);
    Object.assign(this.used, found);
    return found;
  }

  private async askSession(requests: Record<string, InputRequest>): Promise<Record<string, unknown>> {
    const session = this.ctx.session;
    if (!canRequest(session)) {
      throw new JsonRpcError(ErrorCode.InternalError, 'This session cannot send requests to the client');
    }
    const entries = Object.entries(requests);
    const answers = await Promise.all(entries.map(([, request]) => session.request(request.method, request.params ?? {})));
    const out: Record<string, unknown> = {};
    entries.forEach(([key], i) => (out[key] = answers[i]));
    return out;
  }

  async elicit(key: string, params: Record<string, unknown>): Promise<unknown> {
    return (await this.input({ [key]: { method: 'elicitation/create', params } }))[key];
  }

  async sample(key: string, params: Record<string, unknown>): Promise<unknown> {
    return (await this.input({ [key]: { method: 'sampling/createMessage', params } }))[key];
  }

  async listRoots(key: string): Promise<unknown> {
    return (await this.input({ [key]: { method: 'roots/list' } }))[key];
  }
}

/**
 * One scope per request message, kept on the message under a symbol (see `CHECKED_META` in
 * modern.ts for why not a `WeakMap`): the wrapper creates it, handlers look it up.
 */
const INPUT_SCOPE = Symbol('session-supervisor.inputScope');

function scopeOf(message: object): InputScope | undefined {
  return (message as { [INPUT_SCOPE]?: InputScope })[INPUT_SCOPE];
}

function keepScope(message: object, scope: InputScope): void {
  if (Object.isExtensible(message)) (message as { [INPUT_SCOPE]?: InputScope })[INPUT_SCOPE] = scope;
}

/** The name a `requestState` is bound to: the tool or prompt name, or the resource URI. */
export function requestName(params: unknown): string {
  if (!isObject(params)) return '';
  const name = params['name'] ?? params['uri'];
  return typeof name === 'string' ? name : '';
}

/**
 * Read a modern request's `inputResponses` and `requestState` and open the input scope its
 * handler will use. A malformed `inputResponses` or a `requestState` that fails verification is
 * −32602 (the state is attacker-controlled input). A request that carries neither (most) gets its
 * scope only when something asks for it ({@link inputScopeOf}): the same empty first round.
 */
export function openModernInput(ctx: RequestContext, meta: ModernRequestMeta, codec: RequestStateCodec): void {
  const params = isObject(ctx.message.params) ? ctx.message.params : {};
  let earlier: Record<string, unknown> = {};
  let round = 0;
  const state = params['requestState'];
  if (state !== undefined) {
    if (typeof state !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid requestState', { reason: 'malformed' });
    const opened = codec.open(state, ctx.method, requestName(params));
    if ('refused' in opened) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid requestState', { reason: opened.refused });
    earlier = opened.r;
    round = opened.k;
  }
  const responses = params['inputResponses'];
  if (state === undefined && responses === undefined) return;
  if (responses !== undefined) {
    if (!isObject(responses)) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid inputResponses: expected an object');
    for (const [key, value] of Object.entries(responses)) {
      if (!isObject(value)) throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid inputResponses: ${key} must be an object`, { key });
    }
  }
  const scope = new InputScope('modern', meta.clientCapabilities, round, { ...earlier, ...(responses as Record<string, unknown> | undefined) }, ctx);
  keepScope(ctx.message, scope);
}

/**
 * Turn an {@link InputRequiredSignal} into the `input_required` result, with a signed
 * `requestState` carrying the answers gathered so far.
 */
export function inputRequiredResult(
  signal: InputRequiredSignal,
  scope: InputScope,
  ctx: RequestContext,
  codec: RequestStateCodec,
): Record<string, unknown> {
  const requestState = codec.seal({
    m: ctx.method,
    n: requestName(ctx.message.params),
    r: scope.used,
    k: scope.round + 1,
    x: Date.now() + codec.ttlMs,
  });
  return { resultType: 'input_required', inputRequests: signal.inputRequests, requestState };
}

/**
 * The input helpers of a request (see {@link McpInput}); tool handlers get the same methods on
 * their `ctx`. Prompt and resource handlers of an MCP server call this with their `ctx`.
 *
 * @example
 * ```ts
 * const getPrompt = async (params: unknown, ctx: RequestContext) => {
 *   const answer = await requestInput(ctx).elicit('topic', { mode: 'form', message: 'Topic?', requestedSchema });
 *   return { messages: [...] };
 * };
 * ```
 */
export function requestInput(ctx: RequestContext): McpInput {
  return inputScopeOf(ctx);
}

/** The input scope of a request: the one it opened or was asked for, else a new first round. */
export function inputScopeOf(ctx: RequestContext): InputScope {
  const existing = scopeOf(ctx.message);
  if (existing !== undefined) return existing;
  const modern = modernMetaOf(ctx.message);
  const capabilities = modern?.clientCapabilities ?? (readLocal(ctx.session, CLIENT_CAPABILITIES) as Record<string, unknown> | undefined) ?? {};
  const scope = new InputScope(modern === undefined ? 'legacy' : 'modern', capabilities, 0, {}, ctx);
  keepScope(ctx.message, scope);
  return scope;
}
