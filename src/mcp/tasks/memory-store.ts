import type { TaskEvent } from '../../../machines/task.js';
import { applyTaskEvent, isTerminal, patchRecord, TaskError, type TaskPatch, type TaskRecord } from './record.js';
import type { TaskSignal, TaskStore } from './store.js';

/**
 * Options of {@link createMemoryTaskStore}.
 *
 * @example
 * ```ts
 * createMemoryTaskStore({ maxTasks: 1000, now: () => Date.now() });
 * ```
 */
export interface MemoryTaskStoreOptions {
  /** Most tasks held at once (expired ones are dropped first); default 10 000. */
  maxTasks?: number;
  /** Wall clock in epoch ms; default `Date.now`. */
  now?: () => number;
}

/**
 * The default task store: one process's memory, bounded by `maxTasks`. Tasks do not outlive the
 * process; use {@link createRedisTaskStore} for several instances.
 *
 * @example
 * ```ts
 * const store = createMemoryTaskStore();
 * await store.create({ taskId: 't1', status: 'working', reason: null, owner: 'a', ttlMs: 60_000, createdAt: Date.now(), version: 0 });
 * ```
 */
export function createMemoryTaskStore(options: MemoryTaskStoreOptions = {}): TaskStore {
  const maxTasks = options.maxTasks ?? 10_000;
  const now = options.now ?? Date.now;
  const tasks = new Map<string, TaskRecord>();
  const leases = new Map<string, number>();
  const listeners = new Set<(signal: TaskSignal) => void>();

  const expired = (r: TaskRecord): boolean => now() >= r.createdAt + r.ttlMs;
  const read = (taskId: string): TaskRecord | undefined => {
    const r = tasks.get(taskId);
    if (r !== undefined && expired(r)) {
      tasks.delete(taskId);
      return undefined;
    }
    return r;
  };
  const sweep = (): void => {
    for (const r of tasks.values()) if (expired(r)) tasks.delete(r.taskId);
  };

  return {
    create(record) {
      if (tasks.size >= maxTasks) sweep();
      if (tasks.size >= maxTasks) return Promise.reject(new TaskError('ERR_TASK_STORE_FULL', `the task store holds its maximum of ${maxTasks} tasks`));
      tasks.set(record.taskId, { ...record });
      return Promise.resolve();
    },
    get: (taskId) => Promise.resolve(read(taskId)),
    transition(taskId: string, event: TaskEvent, patch: TaskPatch = {}) {
      const r = read(taskId);
      const next = r === undefined ? undefined : applyTaskEvent(r, event, patch, now());
      if (next !== undefined) tasks.set(taskId, next);
      return Promise.resolve(next);
    },
    patch(taskId, patch) {
      const r = read(taskId);
      const changes = r === undefined ? undefined : patch(r);
      if (r === undefined || changes === undefined) return Promise.resolve(undefined);
      const next = patchRecord(r, changes, now());
      tasks.set(taskId, next);
      return Promise.resolve(next);
    },
    live(limit) {
      const ids: string[] = [];
      for (const r of tasks.values()) {
        if (ids.length >= limit) break;
        if (!isTerminal(r.status) && !expired(r)) ids.push(r.taskId);
      }
      return Promise.resolve(ids);
    },
    renewLease(owner, ms) {
      leases.set(owner, now() + ms);
      return Promise.resolve();
    },
    dropLease(owner) {
      leases.delete(owner);
      return Promise.resolve();
    },
    leaseHeld: (owner) => Promise.resolve((leases.get(owner) ?? -Infinity) > now()),
    publish(signal) {
      for (const l of [...listeners]) l(signal);
      return Promise.resolve();
    },
    subscribe(listener) {
      listeners.add(listener);
      return Promise.resolve(() => listeners.delete(listener));
    },
    close() {
      listeners.clear();
      return Promise.resolve();
    },
  };
}
