import type { IncomingHttpHeaders } from 'node:http';
import { checkParamHeaders, paramHeaderBindings, type ParamHeaderBinding } from './param-headers.js';
import { z } from 'zod';
import { summarizeIssues } from '../jsonrpc/codec.js';
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { JsonRpcRequest } from '../jsonrpc/schema.js';
import type { CancelledError, RequestContext, SessionHandle } from '../runtime/methods.js';
import { InputRequiredSignal, requestInput, type InputRequest, type McpInput } from './input.js';
import { sendLog, type LogLevel } from './logging.js';
import { sendProgress } from './progress.js';
import type { TaskManager } from './tasks/manager.js';
import { callTaskTool, isCreatedTask, type TaskToolContext } from './tasks/tool-task.js';

/**
 * What a tool's `run` gets besides its arguments: the request's `signal` (aborted exactly when the
 * call is cancelled) and `progress()` (sends `notifications/progress` when the client asked for it).
 *
 * @example
 * ```ts
 * const run = async ({ ms }: { ms: number }, ctx: ToolContext) => {
 *   ctx.progress(0, ms);
 *   await setTimeout(ms, undefined, { signal: ctx.signal });
 *   return `slept ${ms} ms`;
 * };
 * ```
 */
export interface ToolContext extends RequestContext, McpInput {
  /** Send progress for this call; `false` when nothing was sent (no token, cancelled, or closed). */
  progress(progress: number, total?: number, message?: string): boolean;
  /** Send a log message for this call (see {@link sendLog}); `false` when it was not sent. */
  log(level: LogLevel, data: unknown, logger?: string): boolean;
}

/**
 * One piece of content of a tool result.
 *
 * @example
 * ```ts
 * const part: ToolContent = { type: 'text', text: 'hello' };
 * ```
 */
export type ToolContent = { type: 'text'; text: string } | { type: string; [key: string]: unknown };

/**
 * A tool result as MCP sends it.
 *
 * @example
 * ```ts
 * const result: ToolResult = { content: [{ type: 'text', text: 'done' }] };
 * ```
 */
export interface ToolResult {
  content: ToolContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [key: string]: unknown;
}

/**
 * A tool: a name, a description, a zod schema for its arguments and the function that runs it.
 * `run` returns a string (sent as text content), a {@link ToolResult}, or any other JSON value (sent
 * as its JSON text). A thrown error becomes a result with `isError: true`; throw a `JsonRpcError` to
 * answer with a protocol error instead.
 *
 * @example
 * ```ts
 * const echo: ToolDefinition<{ text: string }> = {
 *   name: 'echo',
 *   description: 'Echo the text back',
 *   input: z.object({ text: z.string() }),
 *   run: ({ text }) => text,
 * };
 * ```
 */
export interface ToolDefinition<A = any> {
  readonly name: string;
  readonly description?: string;
  readonly input: z.ZodType<A, any>;
  /**
   * The JSON Schema to list for this tool, as it is (any 2020-12 keywords: `$schema`, `$defs`,
   * `$anchor`, `allOf`, `if`/`then`/`else`…). Default: the schema made from `input`. `input` still
   * validates the arguments either way.
   */
  readonly inputSchema?: Record<string, unknown>;
  /**
   * Run as a durable task (the tasks extension, see docs/tasks.md): `true` — only as a task (a
   * client without the extension gets −32021); `'optional'` — as a task when the request declares
   * the extension, else in the request. A task tool's `run` gets a {@link TaskToolContext}.
   */
  readonly task?: true | 'optional';
  /** Safe to run again: an orphaned task of this tool is taken over by another instance instead of failing. */
  readonly idempotent?: boolean;
  /** Lifetime of this tool's tasks (ms); default the task manager's. */
  readonly taskTtlMs?: number;
  /** Runs in the request before the task is created (MRTR input allowed); its value is `ctx.gathered`. */
  readonly gather?: (args: A, ctx: ToolContext) => unknown;
  run(args: A, ctx: ToolContext): unknown;
}

/**
 * Define a tool that runs as a durable task (`task: true`), or as a task when the client declares
 * the tasks extension (`task: 'optional'`). The create result is returned once the task store
 * confirmed the task; `run` gets `ctx.signal`, `ctx.progress` and `ctx.requestInput` (the task
 * reads `input_required` until the client answers with `tasks/update`).
 *
 * @example
 * ```ts
 * const reindex = defineTool({
 *   name: 'reindex',
 *   input: z.object({ shard: z.number() }),
 *   task: true,
 *   idempotent: true,
 *   run: async ({ shard }, ctx) => {
 *     await rebuild(shard, ctx.signal);
 *     return `shard ${shard} reindexed`;
 *   },
 * });
 * ```
 */
export function defineTool<S extends z.ZodType>(definition: {
  name: string;
  description?: string;
  input: S;
  inputSchema?: Record<string, unknown>;
  task: true | 'optional';
  idempotent?: boolean;
  taskTtlMs?: number;
  gather?: (args: z.output<S>, ctx: ToolContext) => unknown;
  run(args: z.output<S>, ctx: TaskToolContext): unknown;
}): ToolDefinition<z.output<S>>;
/**
 * Define a tool; `args` are typed from the zod schema.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineTool } from 'session-supervisor/mcp';
 *
 * const add = defineTool({
 *   name: 'add',
 *   description: 'Add two numbers',
 *   input: z.object({ a: z.number(), b: z.number() }),
 *   run: ({ a, b }) => String(a + b),
 * });
 * ```
 */
export function defineTool<S extends z.ZodType>(definition: {
  name: string;
  description?: string;
  input: S;
  inputSchema?: Record<string, unknown>;
  run(args: z.output<S>, ctx: ToolContext): unknown;
}): ToolDefinition<z.output<S>>;
export function defineTool(definition: object): ToolDefinition {
  return definition as ToolDefinition;
}

/** The `tools/list` entry of a tool. */
interface ListedTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  execution?: { taskSupport: 'required' | 'optional' };
  annotations?: { idempotentHint: true };
}

const CallParams = z.object({
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()).optional(),
});

/** The per-call context: the runtime's request context plus `progress()`. One object per call. */
class ToolCallContext implements ToolContext {
  constructor(private readonly request: RequestContext) {}
  get signal(): AbortSignal {
    return this.request.signal;
  }
  get cancelled(): boolean {
    return this.request.cancelled;
  }
  get requestId(): RequestContext['requestId'] {
    return this.request.requestId;
  }
  get method(): string {
    return this.request.method;
  }
  get message(): JsonRpcRequest {
    return this.request.message;
  }
  get session(): SessionHandle {
    return this.request.session;
  }
  onCancel(listener: (reason: CancelledError) => void): () => void {
    return this.request.onCancel(listener);
  }
  progress(progress: number, total?: number, message?: string): boolean {
    return sendProgress(this.request, progress, total, message);
  }
  log(level: LogLevel, data: unknown, logger?: string): boolean {
    return sendLog(this.request, level, data, logger);
  }
  private get inputs(): McpInput {
    return requestInput(this.request);
  }
  get era(): McpInput['era'] {
    return this.inputs.era;
  }
  get clientCapabilities(): McpInput['clientCapabilities'] {
    return this.inputs.clientCapabilities;
  }
  get round(): number {
    return this.inputs.round;
  }
  input(requests: Record<string, InputRequest>): Promise<Record<string, unknown>> {
    return this.inputs.input(requests);
  }
  elicit(key: string, params: Record<string, unknown>): Promise<unknown> {
    return this.inputs.elicit(key, params);
  }
  sample(key: string, params: Record<string, unknown>): Promise<unknown> {
    return this.inputs.sample(key, params);
  }
  listRoots(key: string): Promise<unknown> {
    return this.inputs.listRoots(key);
  }
  requireCapabilities(...names: string[]): void {
    this.inputs.requireCapabilities(...names);
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/**
 * The `tools/call` params: the common shape (a string `name`, `arguments` absent or a plain object)
 * is read by hand; anything else goes through the zod schema, which words the −32602.
 */
function readCallParams(params: unknown): { name: string; arguments?: Record<string, unknown> | undefined } {
  if (isPlainObject(params) && typeof params['name'] === 'string') {
    const args = params['arguments'];
    if (args === undefined || isPlainObject(args)) return { name: params['name'], arguments: args };
  }
  const parsed = CallParams.safeParse(params);
  if (!parsed.success) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params', summarizeIssues(parsed.error));
  return parsed.data;
}

/**
 * The `isError` result of a tool that threw: its message as text content.
 *
 * @example
 * ```ts
 * toolErrorResult(new Error('no such file')); // { content: [{ type: 'text', text: 'no such file' }], isError: true }
 * ```
 */
export function toolErrorResult(error: unknown): ToolResult {
  return { content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }], isError: true };
}

/** A thrown tool error: protocol errors and cancellations go up; anything else is an `isError` result. */
function toolError(error: unknown, ctx: RequestContext): ToolResult {
  if (error instanceof JsonRpcError || error instanceof InputRequiredSignal || ctx.cancelled) throw error;
  return toolErrorResult(error);
}

/**
 * Turn what a tool's `run` returned into a tool result: a string becomes text content, a
 * {@link ToolResult} goes as it is, any other value becomes its JSON text.
 *
 * @example
 * ```ts
 * toToolResult('hi'); // { content: [{ type: 'text', text: 'hi' }] }
 * toToolResult({ a: 1 }); // { content: [{ type: 'text', text: '{"a":1}' }] }
 * ```
 */
export function toToolResult(value: unknown): ToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  if (typeof value === 'object' && value !== null && Array.isArray((value as { content?: unknown }).content)) {
    return value as ToolResult;
  }
  return { content: [{ type: 'text', text: JSON.stringify(value) ?? 'null' }] };
}

/**
 * The tool registry behind `tools/list` and `tools/call`. Names are unique; JSON Schemas are made
 * once, from zod 4's `z.toJSONSchema`.
 *
 * @example
 * ```ts
 * const registry = new ToolRegistry([echo]);
 * registry.list(); // { tools: [{ name: 'echo', inputSchema: { type: 'object', … } }] }
 * ```
 */
export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();
  private readonly listed: ListedTool[] = [];
  private readonly tasks: TaskManager | undefined;
  /** The `x-mcp-header` parameters of the tools that have any. */
  private readonly headerBindings = new Map<string, ParamHeaderBinding[]>();

  /** `tasks` runs the tools declared with `task`; without it such a tool is refused at construction. */
  constructor(tools: readonly ToolDefinition[], options: { tasks?: TaskManager } = {}) {
    this.tasks = options.tasks;
    for (const tool of tools) {
      if (this.tools.has(tool.name)) throw new TypeError(`duplicate tool name: ${tool.name}`);
      this.tools.set(tool.name, tool);
      const { $schema: _schema, ...generated } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
      const entry: ListedTool = { name: tool.name, inputSchema: tool.inputSchema ?? generated };
      const bindings = paramHeaderBindings(tool.name, entry.inputSchema);
      if (bindings.length > 0) this.headerBindings.set(tool.name, bindings);
      if (tool.description !== undefined) entry.description = tool.description;
      if (tool.task !== undefined) {
        if (this.tasks === undefined) throw new TypeError(`tool ${tool.name} is a task tool but no task manager was given`);
        entry.execution = { taskSupport: tool.task === true ? 'required' : 'optional' };
      }
      if (tool.idempotent === true) entry.annotations = { idempotentHint: true };
      this.listed.push(entry);
    }
  }

  get size(): number {
    return this.tools.size;
  }

  /** The tool of that name. */
  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  /** The `tools/list` result. */
  list(): { tools: ListedTool[] } {
    return { tools: this.listed };
  }

  /**
   * For a `tools/call` over Streamable HTTP: its `Mcp-Param-*` headers against its arguments
   * ({@link checkParamHeaders}); `undefined` when they agree or the message is anything else.
   */
  checkHeaders(headers: IncomingHttpHeaders, message: unknown): string | undefined {
    if (this.headerBindings.size === 0 || typeof message !== 'object' || message === null) return undefined;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) return undefined;
    const { name, arguments: args } = params as { name?: unknown; arguments?: unknown };
    const bindings = typeof name === 'string' ? this.headerBindings.get(name) : undefined;
    return bindings === undefined ? undefined : checkParamHeaders(headers, bindings, args);
  }

  /**
   * Run `tools/call`: unknown tool or bad arguments → −32602; a thrown error → `isError: true`.
   * A tool that was cancelled rethrows, so the runtime settles it as cancelled. A tool that answers
   * synchronously is answered without a promise.
   */
  call(params: unknown, ctx: RequestContext): ToolResult | Promise<ToolResult> {
    const call = readCallParams(params);
    const tool = this.tools.get(call.name);
    if (tool === undefined) throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown tool: ${call.name}`, { name: call.name });
    const args = tool.input.safeParse(call.arguments ?? {});
    if (!args.success) {
      throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid arguments for tool ${tool.name}`, summarizeIssues(args.error));
    }
    let out: unknown;
    try {
      const toolCtx = new ToolCallContext(ctx);
      out = tool.task === undefined || this.tasks === undefined ? tool.run(args.data, toolCtx) : callTaskTool(tool, args.data, toolCtx, this.tasks, toToolResult);
    } catch (error) {
      return toolError(error, ctx);
    }
    if (typeof out === 'object' && out !== null && typeof (out as { then?: unknown }).then === 'function') {
      return Promise.resolve(out).then(
        (value) => (isCreatedTask(value) ? (value as ToolResult) : toToolResult(value)),
        (error: unknown) => toolError(error, ctx),
      );
    }
    return toToolResult(out);
  }
}
