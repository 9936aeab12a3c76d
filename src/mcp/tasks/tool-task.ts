import { JsonRpcError } from '../../jsonrpc/errors.js';
import { requireInputCapabilities, type InputRequest } from '../input.js';
import type { LogLevel } from '../logging.js';
import { toolErrorResult, type ToolContext, type ToolDefinition } from '../tools.js';
import { declaresTasks, storeFailure, tasksRequiredError } from './extension.js';
import type { TaskManager, TaskRunContext, TaskWork } from './manager.js';
import type { TaskOrigin, TaskRecord } from './record.js';
import { createTaskResult } from './wire.js';

/**
 * What a task tool's `run` gets. As a task (the client declared the tasks extension) `taskId` is
 * set, `signal` aborts when the task is cancelled (its reason is a `TaskError` whose `reason` says
 * why: `client`, `shutdown`, `instance-lost`, `ttl-expired`), `progress` is kept with the task
 * (`statusMessage` on `tasks/get`) and every input request (`requestInput`, `elicit`, `sample`,
 * `listRoots`) makes the task `input_required` until the client answers with `tasks/update`.
 * Called without the extension (a `task: 'optional'` tool) the same code runs inside the request:
 * `taskId` is `undefined` and input goes the request's way (MRTR or a server-to-client request).
 *
 * @example
 * ```ts
 * const run = async ({ file }: { file: string }, ctx: TaskToolContext) => {
 *   const { ok } = await ctx.requestInput({ ok: { method: 'elicitation/create', params: { message: `Delete ${file}?`, requestedSchema } } });
 *   ctx.progress(1, 1, 'deleted');
 *   return `deleted ${file}: ${JSON.stringify(ok)}`;
 * };
 * ```
 */
export interface TaskToolContext {
  /** The task's id; `undefined` when the tool runs inside the request (no task). */
  readonly taskId: string | undefined;
  readonly signal: AbortSignal;
  /** The capabilities the calling request declared. */
  readonly clientCapabilities: Readonly<Record<string, unknown>>;
  /** What the tool's `gather` returned (the inputs collected before the task was created). */
  readonly gathered: unknown;
  progress(progress: number, total?: number, message?: string): boolean;
  log(level: LogLevel, data: unknown, logger?: string): boolean;
  /** Ask the client; resolves with the answers by key. */
  requestInput(requests: Record<string, InputRequest>): Promise<Record<string, unknown>>;
  elicit(key: string, params: Record<string, unknown>): Promise<unknown>;
  sample(key: string, params: Record<string, unknown>): Promise<unknown>;
  listRoots(key: string): Promise<unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The request-side context as a {@link TaskToolContext} (no task: the tool runs in the request). */
function inRequest(ctx: ToolContext, gathered: unknown): TaskToolContext {
  return {
    taskId: undefined,
    signal: ctx.signal,
    clientCapabilities: ctx.clientCapabilities,
    gathered,
    progress: (progress, total, message) => ctx.progress(progress, total, message),
    log: (level, data, logger) => ctx.log(level, data, logger),
    requestInput: (requests) => ctx.input(requests),
    elicit: (key, params) => ctx.elicit(key, params),
    sample: (key, params) => ctx.sample(key, params),
    listRoots: (key) => ctx.listRoots(key),
  };
}

/** The task-side context: input goes through the task (`input_required` ⇄ `tasks/update`). */
function inTask(run: TaskRunContext, origin: TaskOrigin): TaskToolContext {
  const capabilities = isObject(origin.capabilities) ? origin.capabilities : undefined;
  const requestInput = async (requests: Record<string, InputRequest>): Promise<Record<string, unknown>> => {
    if (capabilities !== undefined) requireInputCapabilities(capabilities, requests);
    return run.requestInput(requests);
  };
  const one = async (key: string, request: InputRequest): Promise<unknown> => (await requestInput({ [key]: request }))[key];
  return {
    taskId: run.taskId,
    signal: run.signal,
    clientCapabilities: capabilities ?? {},
    gathered: origin.gathered,
    progress(progress, total, message) {
      run.progress(progress, total, message);
      return true;
    },
    log: () => false,
    requestInput,
    elicit: (key, params) => one(key, { method: 'elicitation/create', params }),
    sample: (key, params) => one(key, { method: 'sampling/createMessage', params }),
    listRoots: (key) => one(key, { method: 'roots/list' }),
  };
}

/** A task tool's `run` takes a {@link TaskToolContext} (see `defineTool`). */
const runTool = (tool: ToolDefinition, args: unknown, ctx: TaskToolContext): unknown =>
  (tool.run as unknown as (this: ToolDefinition, a: unknown, c: TaskToolContext) => unknown).call(tool, args, ctx);

/** Results of `tools/call` that are a created task (the registry passes them through as they are). */
const created = new WeakSet<object>();

/**
 * Whether a `tools/call` outcome is a `CreateTaskResult` made by {@link callTaskTool}.
 *
 * @example
 * ```ts
 * if (isCreatedTask(out)) return out;
 * ```
 */
export function isCreatedTask(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && created.has(value);
}

/** The work of a task tool: its result (a thrown tool error is an `isError` result); protocol errors fail the task. */
function toolWork(tool: ToolDefinition, args: unknown, origin: TaskOrigin, toResult: (value: unknown) => unknown): TaskWork {
  return async (run) => {
    try {
      return toResult(await runTool(tool, args, inTask(run, origin)));
    } catch (error) {
      if (error instanceof JsonRpcError || run.signal.aborted) throw error;
      return toolErrorResult(error);
    }
  };
}

/**
 * Call a tool declared with `task`. When the request declares the tasks extension, its `gather`
 * runs in the request (MRTR input allowed), then the task is created — the `CreateTaskResult`
 * is returned only once the store confirmed the write — and `run` goes on as the task. Without
 * the extension a `task: true` tool is refused with −32021 and a `task: 'optional'` tool runs in
 * the request like any tool.
 *
 * @example
 * ```ts
 * const out = await callTaskTool(tool, args, toolCtx, tasks, toToolResult);
 * ```
 */
export async function callTaskTool(tool: ToolDefinition, args: unknown, ctx: ToolContext, tasks: TaskManager, toResult: (value: unknown) => unknown): Promise<unknown> {
  const asTask = declaresTasks(ctx.clientCapabilities);
  if (!asTask && tool.task === true) throw tasksRequiredError(`tool ${tool.name} runs only as a task`);
  const gathered = tool.gather === undefined ? undefined : await tool.gather(args, ctx);
  if (!asTask) return runTool(tool, args, inRequest(ctx, gathered));
  const origin: TaskOrigin = { tool: tool.name, args, idempotent: tool.idempotent === true, capabilities: ctx.clientCapabilities };
  if (gathered !== undefined) origin.gathered = gathered;
  const opts: { ttlMs?: number; origin: TaskOrigin } = { origin };
  if (tool.taskTtlMs !== undefined) opts.ttlMs = tool.taskTtlMs;
  let record: TaskRecord;
  try {
    record = await tasks.run(toolWork(tool, args, origin, toResult), opts);
  } catch (error) {
    throw storeFailure(error);
  }
  const result = createTaskResult(record, tasks.pollIntervalMs);
  created.add(result);
  return result;
}

/**
 * Let a task manager take over orphaned tasks of the idempotent tools in `tools` (see
 * {@link TaskManager.onTakeover}).
 *
 * @example
 * ```ts
 * resumeToolTasks(tasks, (name) => registry.get(name), toToolResult);
 * ```
 */
export function resumeToolTasks(tasks: TaskManager, find: (name: string) => ToolDefinition | undefined, toResult: (value: unknown) => unknown): void {
  tasks.onTakeover((record) => {
    const origin = record.origin;
    const tool = origin === undefined ? undefined : find(origin.tool);
    if (origin === undefined || tool === undefined || tool.task === undefined || tool.idempotent !== true) return undefined;
    return toolWork(tool, origin.args, origin, toResult);
  });
}
