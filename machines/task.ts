import { assign, setup } from 'xstate';

/**
 * Why a task stopped before it finished its work.
 *
 * - `client`: the client sent `tasks/cancel` (on any instance).
 * - `shutdown`: the owning instance shut down gracefully and failed the task explicitly.
 * - `instance-lost`: the owning instance stopped renewing its lease (it died).
 * - `ttl-expired`: the task outlived its `ttlMs` before finishing.
 *
 * @example
 * ```ts
 * const why: TaskCancelReason = 'instance-lost';
 * ```
 */
export type TaskCancelReason = 'client' | 'shutdown' | 'instance-lost' | 'ttl-expired';

/**
 * Every task cancel reason, in a stable order.
 *
 * @example
 * ```ts
 * TASK_CANCEL_REASONS.includes('client'); // true
 * ```
 */
export const TASK_CANCEL_REASONS: readonly TaskCancelReason[] = ['client', 'shutdown', 'instance-lost', 'ttl-expired'];

/**
 * The wire status of a task (the extension's `status` field).
 *
 * @example
 * ```ts
 * const s: TaskStatus = 'input_required';
 * ```
 */
export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/**
 * Events of a task actor. Timers are events too (`timer.ttl` comes from the runtime's clock).
 *
 * @example
 * ```ts
 * const event: TaskEvent = { type: 'task.cancel', reason: 'client' };
 * ```
 */
export type TaskEvent =
  | { type: 'task.inputRequired' }
  | { type: 'task.inputProvided' }
  | { type: 'task.complete' }
  | { type: 'task.error' }
  | { type: 'task.cancel'; reason: Exclude<TaskCancelReason, 'ttl-expired'> }
  | { type: 'timer.ttl' };

/**
 * Context of a task actor.
 *
 * @example
 * ```ts
 * const ctx: TaskContext = { taskId: 't1', ttlMs: 60_000, reason: null };
 * ```
 */
export interface TaskContext {
  taskId: string;
  ttlMs: number;
  /** Why it stopped early, once it did. */
  reason: TaskCancelReason | null;
}

/**
 * Input of a task actor.
 *
 * @example
 * ```ts
 * const input: TaskInput = { taskId: 't1', ttlMs: 60_000 };
 * ```
 */
export interface TaskInput {
  taskId: string;
  ttlMs: number;
}

/** Reasons that end a task as `failed` rather than `cancelled`: the client did not ask for them. */
const FAILING: ReadonlySet<TaskCancelReason> = new Set(['shutdown', 'instance-lost']);

/**
 * The lifecycle of one durable MCP task (`io.modelcontextprotocol/tasks`):
 * `working` ⇄ `input_required` → `completed` | `failed` | `cancelled`, and `expired` once `ttlMs`
 * has passed (a task still running then is cancelled with `ttl-expired`; a finished one is dropped).
 *
 * `client` cancels end in `cancelled`; `shutdown` and `instance-lost` end in `failed` with that
 * reason, so a client never sees a task silently vanish. Pure: no timers, no I/O.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { taskMachine } from 'session-supervisor/machines';
 *
 * const t = createActor(taskMachine, { input: { taskId: 't1', ttlMs: 60_000 } }).start();
 * t.send({ type: 'task.inputRequired' });
 * t.getSnapshot().value; // 'input_required'
 * t.send({ type: 'task.cancel', reason: 'client' });
 * t.getSnapshot().value; // 'cancelled'
 * ```
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
    input: {} as TaskInput,
  },
  guards: {
    failing: ({ event }) => event.type === 'task.cancel' && FAILING.has(event.reason),
  },
  actions: {
    recordReason: assign({ reason: ({ event }) => (event.type === 'task.cancel' ? event.reason : 'ttl-expired') }),
  },
}).createMachine({
  id: 'task',
  context: ({ input }) => ({ taskId: input.taskId, ttlMs: input.ttlMs, reason: null }),
  initial: 'working',
  states: {
    working: {
      on: {
        'task.inputRequired': { target: 'input_required' },
        'task.complete': { target: 'completed' },
        'task.error': { target: 'failed' },
        'task.cancel': [
          { guard: 'failing', target: 'failed', actions: 'recordReason' },
          { target: 'cancelled', actions: 'recordReason' },
        ],
        'timer.ttl': { target: 'cancelled', actions: 'recordReason' },
      },
    },
    input_required: {
      on: {
        'task.inputProvided': { target: 'working' },
        'task.cancel': [
          { guard: 'failing', target: 'failed', actions: 'recordReason' },
          { target: 'cancelled', actions: 'recordReason' },
        ],
        'timer.ttl': { target: 'cancelled', actions: 'recordReason' },
      },
    },
    completed: { on: { 'timer.ttl': { target: 'expired' } } },
    failed: { on: { 'timer.ttl': { target: 'expired' } } },
    cancelled: { on: { 'timer.ttl': { target: 'expired' } } },
    expired: { type: 'final' },
  },
});

/**
 * The wire status a task machine state stands for (`expired` tasks are gone: `undefined`).
 *
 * @example
 * ```ts
 * taskStatusOf('input_required'); // 'input_required'
 * taskStatusOf('expired'); // undefined
 * ```
 */
export function taskStatusOf(value: string): TaskStatus | undefined {
  return value === 'expired' ? undefined : (value as TaskStatus);
}
