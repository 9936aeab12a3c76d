import { randomUUID } from 'node:crypto';
import type { TaskCancelReason } from '../../../machines/task.js';
import { systemClock, type Clock } from '../../runtime/clock.js';
import { createMemoryTaskStore } from './memory-store.js';
import { TaskError, type TaskRecord } from './record.js';
import type { TaskSignal, TaskStore } from './store.js';

/**
 * What a task's work function gets: a signal aborted when the task is cancelled (its reason is a
 * `TaskError` coded `ERR_TASK_CANCELLED` whose `reason` says why), progress reports and input
 * requests answered through `tasks/update` (the task reads `input_required` meanwhile).
 *
 * @example
 * ```ts
 * const work = async (ctx: TaskRunContext) => {
 *   ctx.progress(1, 2);
 *   const { name } = await ctx.requestInput({ name: { method: 'elicitation/create', params: {} } });
 *   return { content: [{ type: 'text', text: String(name) }] };
 * };
 * ```
 */
export interface TaskRunContext {
  readonly taskId: string;
  readonly signal: AbortSignal;
  progress(progress: number, total?: number, message?: string): void;
  requestInput(requests: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/**
 * Options of {@link createTaskManager}.
 *
 * @example
 * ```ts
 * createTaskManager({ store: await connectRedisTaskStore({ url }), leaseMs: 5_000 });
 * ```
 */
export interface TaskManagerOptions {
  /** Default: a bounded in-memory store. */
  store?: TaskStore;
  /** This instance's owner id; default a random UUID. */
  instanceId?: string;
  /** How long an owner's lease lasts without renewal; default 5 000 ms. Renewed every third. */
  leaseMs?: number;
  /** Task lifetime when the caller gives none; default 1 hour. */
  defaultTtlMs?: number;
  /** Timers (lease renewal, orphan sweep, task ttl); default the system clock. */
  clock?: Clock;
  /** Wall clock in epoch ms; default `Date.now`. */
  now?: () => number;
  /** Told about background failures (lease renewal, sweep) the caller cannot see otherwise. */
  onError?: (error: unknown) => void;
}

interface Running {
  controller: AbortController;
  ttlTimer: unknown;
  /** Wakes a pending `requestInput` (on an update signal). */
  wake?: () => void;
}

/**
 * The task runtime of one instance: creates tasks in the store (acknowledged only after the store
 * confirmed the write), runs their work with an `AbortSignal`, serves `get`/`update`/`cancel` for
 * any task in the store, holds and renews this instance's lease, and fails the tasks of owners
 * whose lease ran out (`instance-lost`). `shutdown()` fails its own running tasks with `shutdown`.
 *
 * @example
 * ```ts
 * const tasks = createTaskManager({ store });
 * await tasks.start();
 * const task = await tasks.run(async (ctx) => slowWork(ctx.signal), { ttlMs: 60_000 });
 * await tasks.cancel(task.taskId); // on any instance
 * ```
 */
export function createTaskManager(options: TaskManagerOptions = {}) {
  const store = options.store ?? createMemoryTaskStore();
  const instanceId = options.instanceId ?? randomUUID();
  const leaseMs = options.leaseMs ?? 5_000;
  const defaultTtlMs = options.defaultTtlMs ?? 3_600_000;
  const clock = options.clock ?? systemClock;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => undefined);
  const running = new Map<string, Running>();
  let timer: unknown;
  let unsubscribe: (() => void) | undefined;
  let stopped = false;

  const abort = (taskId: string, reason: TaskCancelReason): void => {
    const r = running.get(taskId);
    if (r === undefined) return;
    r.controller.abort(new TaskError('ERR_TASK_CANCELLED', `task ${taskId} cancelled: ${reason}`, reason));
  };

  const onSignal = (signal: TaskSignal): void => {
    const r = running.get(signal.taskId);
    if (r === undefined) return;
    if (signal.kind === 'update') {
      r.wake?.();
      return;
    }
    // A cancel: read why from the store (the machine recorded the reason).
    store.get(signal.taskId).then(
      (record) => abort(signal.taskId, record?.reason ?? 'client'),
      (error: unknown) => {
        onError(error);
        abort(signal.taskId, 'client');
      },
    );
  };

  /** Fail the live tasks of owners whose lease expired. Returns how many were failed. */
  const sweep = async (limit = 1_000): Promise<number> => {
    let failed = 0;
    const held = new Map<string, boolean>();
    for (const taskId of await store.live(limit)) {
      const record = await store.get(taskId);
      if (record === undefined || record.owner === instanceId) continue;
      let alive = held.get(record.owner);
      if (alive === undefined) held.set(record.owner, (alive = await store.leaseHeld(record.owner)));
      if (alive) continue;
      if ((await store.transition(taskId, { type: 'task.cancel', reason: 'instance-lost' })) === undefined) continue;
      failed++;
      // Should the owner still be alive (a partition, a stalled event loop), tell it to stop.
      await store.publish({ taskId, kind: 'cancel' });
    }
    return failed;
  };

  const tick = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(tick, Math.max(1, Math.floor(leaseMs / 3)));
    store.renewLease(instanceId, leaseMs).then(() => sweep(), onError).catch(onError);
  };

  const settle = async (taskId: string, work: Promise<unknown>): Promise<void> => {
    try {
      const result = await work;
      await store.transition(taskId, { type: 'task.complete' }, { result });
    } catch (error) {
      const r = running.get(taskId);
      if (r?.controller.signal.aborted !== true) await store.transition(taskId, { type: 'task.error' }, { error: error instanceof Error ? error.message : String(error) });
    }
  };

  const contextFor = (taskId: string, r: Running): TaskRunContext => ({
    taskId,
    signal: r.controller.signal,
    progress(progress, total, message) {
      const report: NonNullable<TaskRecord['progress']> = { progress };
      if (total !== undefined) report.total = total;
      if (message !== undefined) report.message = message;
      store.patch(taskId, () => ({ progress: report })).catch(onError);
    },
    async requestInput(requests) {
      const keys = Object.keys(requests);
      const answered = (record: TaskRecord | undefined): Record<string, unknown> | undefined => {
        const responses = record?.inputResponses ?? {};
        return keys.every((k) => k in responses) ? Object.fromEntries(keys.map((k) => [k, responses[k]])) : undefined;
      };
      const asked = await store.transition(taskId, { type: 'task.inputRequired' }, { inputRequests: requests });
      if (asked === undefined) throw r.controller.signal.reason ?? new TaskError('ERR_TASK_CANCELLED', `task ${taskId} is no longer running`, 'client');
      for (;;) {
        r.controller.signal.throwIfAborted();
        const answers = answered(await store.get(taskId));
        if (answers !== undefined) {
          await store.transition(taskId, { type: 'task.inputProvided' });
          return answers;
        }
        await new Promise<void>((resolve) => {
          const done = (): void => {
            r.controller.signal.removeEventListener('abort', done);
            delete r.wake;
            resolve();
          };
          r.wake = done;
          r.controller.signal.addEventListener('abort', done);
        });
      }
    },
  });

  return {
    instanceId,
    store,
    /** Take the lease, listen for signals, start renewing and sweeping. */
    async start(): Promise<void> {
      await store.renewLease(instanceId, leaseMs);
      unsubscribe = await store.subscribe(onSignal);
      timer = clock.setTimeout(tick, Math.max(1, Math.floor(leaseMs / 3)));
    },
    /** Create a task and start its work; resolves once the store confirmed the task. */
    async run(work: (ctx: TaskRunContext) => Promise<unknown>, opts: { ttlMs?: number } = {}): Promise<TaskRecord> {
      if (stopped) throw new TaskError('ERR_TASK_CANCELLED', 'the task manager is shut down', 'shutdown');
      const ttlMs = opts.ttlMs ?? defaultTtlMs;
      const record: TaskRecord = { taskId: randomUUID(), status: 'working', reason: null, owner: instanceId, ttlMs, createdAt: now(), version: 0 };
      await store.create(record);
      const r: Running = { controller: new AbortController(), ttlTimer: undefined };
      running.set(record.taskId, r);
      r.ttlTimer = clock.setTimeout(() => {
        store.transition(record.taskId, { type: 'timer.ttl' }).then(() => abort(record.taskId, 'ttl-expired'), onError);
      }, ttlMs);
      const work$ = Promise.resolve().then(() => work(contextFor(record.taskId, r)));
      void settle(record.taskId, work$).catch(onError).finally(() => {
        clock.clearTimeout(r.ttlTimer);
        running.delete(record.taskId);
      });
      return record;
    },
    get: (taskId: string) => store.get(taskId),
    /** Cancel a task (any owner); resolves with the cancelled record, or `undefined` when it was not running. */
    async cancel(taskId: string): Promise<TaskRecord | undefined> {
      const record = await store.transition(taskId, { type: 'task.cancel', reason: 'client' });
      if (record !== undefined) await store.publish({ taskId, kind: 'cancel' });
      return record;
    },
    /** Answer a task's input requests (any owner); `undefined` when unknown. */
    async update(taskId: string, inputResponses: Record<string, unknown>): Promise<TaskRecord | undefined> {
      const record = await store.patch(taskId, (current) => ({ inputResponses: { ...current.inputResponses, ...inputResponses } }));
      if (record !== undefined) await store.publish({ taskId, kind: 'update' });
      return record;
    },
    sweep,
    /** Tasks this instance is running now. */
    get runningCount(): number {
      return running.size;
    },
    /** Fail this instance's running tasks with `shutdown`, drop the lease, stop the timers. */
    async shutdown(): Promise<void> {
      stopped = true;
      clock.clearTimeout(timer);
      unsubscribe?.();
      const ids = [...running.keys()];
      const results = await Promise.allSettled(ids.map((id) => store.transition(id, { type: 'task.cancel', reason: 'shutdown' })));
      for (const id of ids) abort(id, 'shutdown');
      await store.dropLease(instanceId).catch(onError);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    },
  };
}

/**
 * One instance's task runtime (see {@link createTaskManager}).
 *
 * @example
 * ```ts
 * const tasks: TaskManager = createTaskManager();
 * ```
 */
export type TaskManager = ReturnType<typeof createTaskManager>;
