import { ErrorCode, JsonRpcError } from '../../jsonrpc/errors.js';
import type { MethodTable, RequestContext } from '../../runtime/methods.js';
import { requestInput } from '../input.js';
import type { TaskManager } from './manager.js';
import type { TaskRecord } from './record.js';
import { pendingInputs } from './task-input.js';
import { declaresTasks, storeFailure, tasksRequiredError } from './extension.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The `Task` fields every task message carries. */
function taskFields(record: TaskRecord, pollIntervalMs: number): Record<string, unknown> {
  return {
    taskId: record.taskId,
    status: record.status,
    createdAt: iso(record.createdAt),
    lastUpdatedAt: iso(record.updatedAt ?? record.createdAt),
    ttlMs: Math.round(record.ttlMs),
    pollIntervalMs: Math.max(1, Math.round(pollIntervalMs)),
  };
}

/**
 * The `CreateTaskResult` of a new task: flat (`resultType: "task"` and the task's fields at the
 * top), never `result`, `error`, `inputRequests` or `requestState`.
 *
 * @example
 * ```ts
 * createTaskResult(record, 1000); // { resultType: 'task', taskId, status: 'working', createdAt, lastUpdatedAt, ttlMs, pollIntervalMs: 1000 }
 * ```
 */
export function createTaskResult(record: TaskRecord, pollIntervalMs: number): Record<string, unknown> {
  return { resultType: 'task', ...taskFields(record, pollIntervalMs) };
}

/**
 * The `tasks/get` answer (a `DetailedTask`): `inputRequests` while `input_required` (only the keys
 * not answered yet), the tool `result` once `completed`, the JSON-RPC `error` once `failed`.
 * `statusMessage` says why a task stopped early, or the handler's last progress message.
 *
 * @example
 * ```ts
 * detailedTask(record, 1000).status; // 'completed'
 * ```
 */
export function detailedTask(record: TaskRecord, pollIntervalMs: number): Record<string, unknown> {
  const out: Record<string, unknown> = { resultType: 'complete', ...taskFields(record, pollIntervalMs) };
  if (record.reason !== null) out['statusMessage'] = `stopped: ${record.reason}`;
  else if (record.progress?.message !== undefined) out['statusMessage'] = record.progress.message;
  if (record.status === 'input_required') out['inputRequests'] = pendingInputs(record);
  if (record.status === 'completed') out['result'] = record.result ?? { content: [] };
  if (record.status === 'failed') {
    out['error'] = record.error ?? { code: ErrorCode.InternalError, message: `task failed${record.reason === null ? '' : `: ${record.reason}`}` };
  }
  return out;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function taskIdOf(params: unknown): string {
  const taskId = isObject(params) ? params['taskId'] : undefined;
  if (typeof taskId !== 'string' || taskId === '') throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: taskId must be a non-empty string');
  return taskId;
}

const unknownTask = (taskId: string): JsonRpcError => new JsonRpcError(ErrorCode.InvalidParams, `Unknown task: ${taskId}`, { taskId });

/** −32021 unless the request declared the tasks extension (per request in the modern era, at `initialize` in the legacy one). */
function gate(method: string, ctx: RequestContext): void {
  if (!declaresTasks(requestInput(ctx).clientCapabilities)) throw tasksRequiredError(method);
}

async function store<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeFailure(error);
  }
}

/**
 * The methods of the tasks extension, served through a task manager, so they work on every
 * instance sharing its store:
 * - `tasks/get` → the `DetailedTask`;
 * - `tasks/update` → `{}` once the answers to open input requests are stored (answers to keys not
 *   open are ignored);
 * - `tasks/cancel` → `{}`; the owning instance's handler is aborted with reason `client`; a task
 *   that already ended stays as it is (the same empty ack).
 *
 * Errors: −32021 when the request did not declare the extension, −32602 for a missing or unknown
 * `taskId` or a malformed `inputResponses`, −32603 with `data.code: 'ERR_TASK_STORE_UNAVAILABLE'`
 * while the store cannot be reached.
 *
 * @example
 * ```ts
 * const methods = { ...taskMethods(tasks) };
 * ```
 */
export function taskMethods(tasks: TaskManager): MethodTable {
  return {
    'tasks/get': async (params: unknown, ctx) => {
      gate('tasks/get', ctx);
      const taskId = taskIdOf(params);
      const record = await store(() => tasks.get(taskId));
      if (record === undefined) throw unknownTask(taskId);
      return detailedTask(record, tasks.pollIntervalMs);
    },
    'tasks/update': async (params: unknown, ctx) => {
      gate('tasks/update', ctx);
      const taskId = taskIdOf(params);
      const responses = isObject(params) ? params['inputResponses'] : undefined;
      if (!isObject(responses)) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: inputResponses must be an object');
      const record = await store(() => tasks.update(taskId, responses));
      if (record === undefined) throw unknownTask(taskId);
      return {};
    },
    'tasks/cancel': async (params: unknown, ctx) => {
      gate('tasks/cancel', ctx);
      const taskId = taskIdOf(params);
      const known = await store(async () => (await tasks.get(taskId)) !== undefined && (await tasks.cancel(taskId), true));
      if (!known) throw unknownTask(taskId);
      return {};
    },
  };
}
