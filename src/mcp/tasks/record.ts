import { transition } from 'xstate';
import { taskMachine, type TaskCancelReason, type TaskEvent, type TaskStatus } from '../../../machines/task.js';

/**
 * One task as a store keeps it: the task machine's state plus what the wire needs.
 *
 * @example
 * ```ts
 * const r: TaskRecord = { taskId: 't1', status: 'working', reason: null, owner: 'a', ttlMs: 60_000, createdAt: Date.now(), version: 0 };
 * ```
 */
export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  reason: TaskCancelReason | null;
  /** The instance running the task's handler. */
  owner: string;
  ttlMs: number;
  /** Wall-clock ms (epoch) the task was created at. */
  createdAt: number;
  /** Bumped on every write; stores compare-and-set on it. */
  version: number;
  /** The tool result, once `completed`. */
  result?: unknown;
  /** The JSON-RPC error, once `failed` (by a protocol error of the handler, or by `shutdown` / `instance-lost`). */
  error?: TaskErrorObject;
  /** Wall-clock ms (epoch) of the last write. */
  updatedAt?: number;
  /** What runs the task, so another instance can take it over (idempotent tools only). */
  origin?: TaskOrigin;
  /** How many times another instance took the task over. */
  takeovers?: number;
  /** Open input requests while `input_required`. */
  inputRequests?: Record<string, unknown>;
  /** Answers sent with `tasks/update`, not yet taken by the handler. */
  inputResponses?: Record<string, unknown>;
  /** The handler's last progress report. */
  progress?: { progress: number; total?: number; message?: string };
}

/**
 * The JSON-RPC error a failed task carries (`code`, `message`, optional `data`).
 *
 * @example
 * ```ts
 * const e: TaskErrorObject = { code: -32603, message: 'task failed: instance-lost', data: { reason: 'instance-lost' } };
 * ```
 */
export interface TaskErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * What started a task: the tool, its arguments and what its pre-task phase gathered. Kept with
 * the task so that another instance can run it again when the owner is lost and the tool is
 * idempotent.
 *
 * @example
 * ```ts
 * const origin: TaskOrigin = { tool: 'reindex', args: { shard: 3 }, idempotent: true };
 * ```
 */
export interface TaskOrigin {
  tool: string;
  args: unknown;
  idempotent: boolean;
  /** What the tool gathered in the request before the task was created. */
  gathered?: unknown;
  /** The client capabilities the creating request declared. */
  capabilities?: Readonly<Record<string, unknown>>;
}

/** Fields a transition or a patch may set besides the status. */
export type TaskPatch = Partial<Pick<TaskRecord, 'result' | 'error' | 'inputRequests' | 'inputResponses' | 'progress' | 'owner' | 'takeovers'>>;

/**
 * Whether a status is terminal (the handler no longer runs).
 *
 * @example
 * ```ts
 * isTerminal('completed'); // true
 * ```
 */
export function isTerminal(status: TaskStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/**
 * Apply one task machine event to a record: the machine decides the next status and reason.
 * Returns `undefined` when the machine ignores the event (the record stays as it is) or when the
 * task expired.
 *
 * @example
 * ```ts
 * const next = applyTaskEvent(record, { type: 'task.cancel', reason: 'client' }, {});
 * next?.status; // 'cancelled'
 * ```
 */
export function applyTaskEvent(record: TaskRecord, event: TaskEvent, patch: TaskPatch, now: number = Date.now()): TaskRecord | undefined {
  const before = taskMachine.resolveState({
    value: record.status,
    context: { taskId: record.taskId, ttlMs: record.ttlMs, reason: record.reason },
  });
  const [after] = transition(taskMachine, before, event);
  if (after.value === before.value || after.value === 'expired') return undefined;
  return { ...record, ...patch, status: after.value as TaskStatus, reason: after.context.reason, version: record.version + 1, updatedAt: now };
}

/**
 * Apply a patch (no status change) to a record: bumps the version and the update time.
 *
 * @example
 * ```ts
 * patchRecord(record, { progress: { progress: 1 } }).version; // record.version + 1
 * ```
 */
export function patchRecord(record: TaskRecord, patch: TaskPatch, now: number = Date.now()): TaskRecord {
  return { ...record, ...patch, version: record.version + 1, updatedAt: now };
}

/**
 * A local error of the task runtime, with a stable string code.
 *
 * - `ERR_TASK_STORE_UNAVAILABLE`: the store (Redis) cannot be reached; retry later.
 * - `ERR_TASK_STORE_FULL`: the in-memory store holds its maximum of live tasks.
 * - `ERR_TASK_CONFLICT`: the task kept changing under a write (bounded retries ran out).
 * - `ERR_TASK_CANCELLED`: the abort reason of a task handler's signal; `reason` says why.
 *
 * @example
 * ```ts
 * if (err instanceof TaskError && err.code === 'ERR_TASK_STORE_UNAVAILABLE') retryLater();
 * ```
 */
export class TaskError extends Error {
  constructor(
    readonly code: 'ERR_TASK_STORE_UNAVAILABLE' | 'ERR_TASK_STORE_FULL' | 'ERR_TASK_CONFLICT' | 'ERR_TASK_CANCELLED',
    message: string,
    readonly reason?: TaskCancelReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TaskError';
  }
}
