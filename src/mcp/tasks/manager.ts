import { randomUUID } from 'node:crypto';
import type { TaskCancelReason, TaskEvent } from '../../../machines/task.js';
import { systemClock, type Clock } from '../../runtime/clock.js';
import { createMemoryTaskStore } from './memory-store.js';
import { isTerminal, TaskError, type TaskErrorObject, type TaskOrigin, type TaskPatch, type TaskRecord } from './record.js';
import type { TaskSignal, TaskStore } from './store.js';
import { acceptedAnswers, askForInput } from './task-input.js';

/**
 * The JSON-RPC error of a task that failed: a thrown error with a numeric `code` (a `JsonRpcError`)
 * keeps it; anything else is −32603 `Internal error` with nothing of the error on the wire, as the
 * runtime answers a handler's thrown error.
 */
function errorObjectOf(error: unknown): TaskErrorObject {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number') {
    const { code, message, data } = error as { code: number; message?: unknown; data?: unknown };
    const out: TaskErrorObject = { code, message: typeof message === 'string' ? message : String(message) };
    if (data !== undefined) out.data = data;
    return out;
  }
  return { code: -32603, message: 'Internal error' };
}

/** The error a task failed by `shutdown` or `instance-lost` carries. */
const stoppedError = (reason: 'shutdown' | 'instance-lost'): TaskErrorObject => ({ code: -32603, message: `task failed: ${reason}`, data: { reason } });

/** Work of one task: what `run` and a takeover start. */
export type TaskWork = (ctx: TaskRunContext) => Promise<unknown>;

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
  /** The polling interval suggested to clients (`pollIntervalMs`); default 1 000 ms. */
  pollIntervalMs?: number;
}

interface Running {
  controller: AbortController;
  ttlTimer: unknown;
  /** Wake pending `requestInput` calls (on an update signal). */
  wakers: Set<() => void>;
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
  let starting: Promise<void> | undefined;
  let takeover: ((record: TaskRecord) => TaskWork | undefined) | undefined;

  const abort = (taskId: string, reason: TaskCancelReason): void => {
    const r = running.get(taskId);
    if (r === undefined) return;
    r.controller.abort(new TaskError('ERR_TASK_CANCELLED', `task ${taskId} cancelled: ${reason}`, reason));
  };

  /** Stop a running task whose record ended elsewhere (cancelled, swept, taken over); wake its input waiters. */
  const reconcile = (record: TaskRecord | undefined, taskId: string): void => {
    const r = running.get(taskId);
    if (r === undefined) return;
    if (record === undefined || isTerminal(record.status)) abort(taskId, record?.reason ?? 'client');
    else if (record.owner !== instanceId) abort(taskId, 'instance-lost');
    else for (const wake of [...r.wakers]) wake();
  };

  const onSignal = (signal: TaskSignal): void => {
    if (signal.kind === 'resync') {
      for (const taskId of [...running.keys()]) store.get(taskId).then((record) => reconcile(record, taskId), onError);
      return;
    }
    const r = running.get(signal.taskId);
    if (r === undefined) return;
    if (signal.kind === 'update') {
      for (const wake of [...r.wakers]) wake();
      return;
    }
    if (signal.kind === 'takeover') {
      // Another instance took the task over (it thought this one lost): stop our copy.
      if (signal.owner !== instanceId) abort(signal.taskId, 'instance-lost');
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

  /**
   * Take over an orphaned task of an idempotent tool this instance can run: claim it (compare-and-set
   * on its owner, so one instance wins), tell the old owner to stop should it still run, and run the
   * work again here. `false` when it cannot be taken over.
   */
  const takeOver = async (record: TaskRecord): Promise<boolean> => {
    if (record.origin?.idempotent !== true || takeover === undefined) return false;
    const work = takeover(record);
    if (work === undefined) return false;
    const claimed = await store.patch(record.taskId, (current) =>
      current.owner === record.owner && !isTerminal(current.status)
        ? { owner: instanceId, takeovers: (current.takeovers ?? 0) + 1, inputRequests: {}, inputResponses: {} }
        : undefined,
    );
    if (claimed === undefined) return true; // another instance claimed it first, or it ended meanwhile
    if (claimed.status === 'input_required') await store.transition(claimed.taskId, { type: 'task.inputProvided' });
    await store.publish({ taskId: claimed.taskId, kind: 'takeover', owner: instanceId });
    begin(claimed, work);
    return true;
  };

  /** Fail the live tasks of owners whose lease expired (or take over those of idempotent tools). Returns how many were failed. */
  const sweep = async (limit = 1_000): Promise<number> => {
    let failed = 0;
    const held = new Map<string, boolean>();
    for (const taskId of await store.live(limit)) {
      const record = await store.get(taskId);
      if (record === undefined || record.owner === instanceId) continue;
      let alive = held.get(record.owner);
      if (alive === undefined) held.set(record.owner, (alive = await store.leaseHeld(record.owner)));
      if (alive) continue;
      if (await takeOver(record)) continue;
      if ((await store.transition(taskId, { type: 'task.cancel', reason: 'instance-lost' }, { error: stoppedError('instance-lost') })) === undefined) continue;
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

  /**
   * Write a task's outcome. While the store is unreachable the write is retried (backing off up to
   * 5 s) until it lands, the task is aborted, the manager shuts down or the task's ttl has passed,
   * so a result is not lost to a short outage.
   */
  const settle = async (record: TaskRecord, r: Running, work: Promise<unknown>): Promise<void> => {
    let event: TaskEvent;
    let patch: TaskPatch;
    try {
      patch = { result: await work };
      event = { type: 'task.complete' };
    } catch (error) {
      if (r.controller.signal.aborted) return;
      patch = { error: errorObjectOf(error) };
      event = { type: 'task.error' };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await store.transition(record.taskId, event, patch);
        return;
      } catch (error) {
        const retry = error instanceof TaskError && error.code === 'ERR_TASK_STORE_UNAVAILABLE';
        if (!retry || stopped || r.controller.signal.aborted || now() >= record.createdAt + record.ttlMs) throw error;
        onError(error);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(5_000, 50 * 2 ** Math.min(attempt, 7))));
      }
    }
  };

  /** Run a stored task's work here: its abort controller, its ttl timer, its settlement. */
  function begin(record: TaskRecord, work: TaskWork): void {
    const r: Running = { controller: new AbortController(), ttlTimer: undefined, wakers: new Set() };
    running.set(record.taskId, r);
    r.ttlTimer = clock.setTimeout(
      () => {
        store.transition(record.taskId, { type: 'timer.ttl' }).then(() => abort(record.taskId, 'ttl-expired'), onError);
      },
      Math.max(0, record.createdAt + record.ttlMs - now()),
    );
    const work$ = Promise.resolve().then(() => work(contextFor(record.taskId, r)));
    void settle(record, r, work$)
      .catch(onError)
      .finally(() => {
        clock.clearTimeout(r.ttlTimer);
        for (const wake of [...r.wakers]) wake();
        if (running.get(record.taskId) === r) running.delete(record.taskId);
      });
  }

  /** Take the lease and subscribe, once (again after a failed attempt). */
  const ready = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    starting ??= (async () => {
      await store.renewLease(instanceId, leaseMs);
      unsubscribe = await store.subscribe(onSignal);
      timer = clock.setTimeout(tick, Math.max(1, Math.floor(leaseMs / 3)));
    })().catch((error: unknown) => {
      starting = undefined;
      throw error;
    });
    return starting;
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
    requestInput(requests) {
      return askForInput(store, taskId, requests, r.controller.signal, () => {
        let wake!: () => void;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const done = (): void => {
          r.wakers.delete(done);
          r.controller.signal.removeEventListener('abort', done);
          wake();
        };
        r.wakers.add(done);
        r.controller.signal.addEventListener('abort', done, { once: true });
        return { woken, disarm: done };
      });
    },
  });

  return {
    instanceId,
    store,
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
    /** Take the lease, listen for signals, start renewing and sweeping (once; `run` does it on first use). */
    start: ready,
    /**
     * Create a task and start its work; resolves once the store confirmed the task. `origin` (tool,
     * arguments) is kept with the task so that another instance can take an idempotent one over.
     */
    async run(work: TaskWork, opts: { ttlMs?: number; origin?: TaskOrigin } = {}): Promise<TaskRecord> {
      if (stopped) throw new TaskError('ERR_TASK_CANCELLED', 'the task manager is shut down', 'shutdown');
      await ready();
      const ttlMs = opts.ttlMs ?? defaultTtlMs;
      const createdAt = now();
      const record: TaskRecord = { taskId: randomUUID(), status: 'working', reason: null, owner: instanceId, ttlMs, createdAt, updatedAt: createdAt, version: 0 };
      if (opts.origin !== undefined) record.origin = opts.origin;
      await store.create(record);
      begin(record, work);
      return record;
    },
    /**
     * How this instance runs an orphaned task of an idempotent tool (see {@link TaskOrigin}); return
     * `undefined` to let it fail with `instance-lost`.
     */
    onTakeover(resolve: (record: TaskRecord) => TaskWork | undefined): void {
      takeover = resolve;
    },
    async get(taskId: string): Promise<TaskRecord | undefined> {
      await ready();
      return store.get(taskId);
    },
    /** Cancel a task (any owner); resolves with the cancelled record, or `undefined` when it was not running. */
    async cancel(taskId: string): Promise<TaskRecord | undefined> {
      await ready();
      const record = await store.transition(taskId, { type: 'task.cancel', reason: 'client' });
      if (record !== undefined) await store.publish({ taskId, kind: 'cancel' });
      return record;
    },
    /** Answer a task's open input requests (any owner; answers to keys not open are ignored); `undefined` when unknown. */
    async update(taskId: string, inputResponses: Record<string, unknown>): Promise<TaskRecord | undefined> {
      await ready();
      let known = false;
      const record = await store.patch(taskId, (current) => {
        known = true;
        const accepted = acceptedAnswers(current, inputResponses);
        return Object.keys(accepted).length === 0 ? undefined : { inputResponses: { ...current.inputResponses, ...accepted } };
      });
      if (record !== undefined) await store.publish({ taskId, kind: 'update' });
      return record ?? (known ? store.get(taskId) : undefined);
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
      const results = await Promise.allSettled(ids.map((id) => store.transition(id, { type: 'task.cancel', reason: 'shutdown' }, { error: stoppedError('shutdown') })));
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
