import type { TaskEvent } from '../../../machines/task.js';
import type { TaskPatch, TaskRecord } from './record.js';

/**
 * A signal between instances about one task: the client cancelled it, or sent input for it.
 *
 * @example
 * ```ts
 * const s: TaskSignal = { taskId: 't1', kind: 'cancel' };
 * ```
 */
export interface TaskSignal {
  taskId: string;
  /**
   * `cancel`: stop it; `update`: new input answers; `takeover`: `owner` now runs it (idempotent
   * takeover); `resync` (`taskId: '*'`): signals may have been missed (the store reconnected), re-read
   * every task you run.
   */
  kind: 'cancel' | 'update' | 'takeover' | 'resync';
  owner?: string;
}

/**
 * Where tasks live. Every write resolves only once the store confirmed it; a store that cannot
 * be reached rejects with a `TaskError` coded `ERR_TASK_STORE_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const store: TaskStore = createMemoryTaskStore();
 * await store.create(record);
 * await store.transition('t1', { type: 'task.complete' }, { result: { content: [] } });
 * ```
 */
export interface TaskStore {
  /** Store a new task (expires after its `ttlMs`). */
  create(record: TaskRecord): Promise<void>;
  /** The task, or `undefined` when unknown or expired. */
  get(taskId: string): Promise<TaskRecord | undefined>;
  /** Apply a task machine event atomically; `undefined` when unknown or the machine ignored it. */
  transition(taskId: string, event: TaskEvent, patch?: TaskPatch): Promise<TaskRecord | undefined>;
  /**
   * Set fields without a state change (input answers, progress, a takeover's new owner), computed
   * from the current record atomically; `undefined` when unknown or when `patch` returned
   * `undefined` (nothing written).
   */
  patch(taskId: string, patch: (current: TaskRecord) => TaskPatch | undefined): Promise<TaskRecord | undefined>;
  /** Live (non-terminal) task ids, at most `limit`. */
  live(limit: number): Promise<string[]>;
  /** Hold (or renew) an owner's lease for `ms`. */
  renewLease(owner: string, ms: number): Promise<void>;
  /** Drop an owner's lease at once. */
  dropLease(owner: string): Promise<void>;
  /** Whether an owner's lease is current. */
  leaseHeld(owner: string): Promise<boolean>;
  /** Send a signal to every instance (including this one). */
  publish(signal: TaskSignal): Promise<void>;
  /** Receive signals; returns an unsubscribe function. */
  subscribe(listener: (signal: TaskSignal) => void): Promise<() => void>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
