/**
 * Durable tasks on a real Redis (Debian's redis-server on a loopback port of its own): two
 * instances share one store; a task created on A is read, answered and cancelled through B; A
 * killed with SIGKILL leaves its task `failed`/`instance-lost` on B once the lease ran out; Redis
 * killed and restarted mid-run gives clear errors while down and the tasks back afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTaskManager, type TaskManager } from '../../src/mcp/tasks/manager.js';
import { TaskError } from '../../src/mcp/tasks/record.js';
import { connectRedisTaskStore } from '../../src/mcp/tasks/redis-store.js';
import { spawnInstance, startRedis, until } from './tasks-redis-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function instance(url: string, instanceId: string, leaseMs = 3_000): Promise<TaskManager> {
  const store = await connectRedisTaskStore({ url });
  const tasks = createTaskManager({ store, instanceId, leaseMs });
  await tasks.start();
  cleanups.push(async () => {
    await tasks.shutdown().catch(() => undefined);
    await store.close();
  });
  return tasks;
}

/** Work that runs until its signal aborts and reports the abort reason. */
function untilAborted() {
  let seen!: (reason: unknown) => void;
  const aborted = new Promise<unknown>((resolve) => (seen = resolve));
  const work = (ctx: { signal: AbortSignal }) =>
    new Promise<never>((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => {
        seen(ctx.signal.reason);
        reject(ctx.signal.reason as Error);
      }),
    );
  return { aborted, work };
}

describe('tasks on Redis across instances', () => {
  it('a task created on A is read and cancelled through B; A sees the abort with reason client within 1 s', async () => {
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const a = await instance(redis.url, 'a');
    const b = await instance(redis.url, 'b');
    const { aborted, work } = untilAborted();
    const task = await a.run(work, { ttlMs: 60_000 });

    expect(await b.get(task.taskId)).toMatchObject({ taskId: task.taskId, status: 'working', owner: 'a' });
    const cancelled = await b.cancel(task.taskId);
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'client' });

    const reason = await Promise.race([aborted, new Promise((_r, reject) => setTimeout(() => reject(new Error('no abort within 1 s')), 1_000))]);
    expect(reason).toBeInstanceOf(TaskError);
    expect((reason as TaskError).reason).toBe('client');
    expect(await a.get(task.taskId)).toMatchObject({ status: 'cancelled', reason: 'client' });
    // A cancelled task stays cancelled: a second cancel changes nothing.
    expect(await b.cancel(task.taskId)).toBeUndefined();
  });

  it('input requested on A is answered through B; the result is read on B', async () => {
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const a = await instance(redis.url, 'a');
    const b = await instance(redis.url, 'b');
    const task = await a.run(async (ctx) => {
      const answers = await ctx.requestInput({ name: { method: 'elicitation/create', params: { message: 'name?' } } });
      return { content: [{ type: 'text', text: `hello ${String(answers['name'])}` }] };
    });
    await until(async () => ((await b.get(task.taskId))?.status === 'input_required' ? true : undefined), 5_000, 'input_required on B');
    expect((await b.get(task.taskId))?.inputRequests).toEqual({ name: { method: 'elicitation/create', params: { message: 'name?' } } });
    await b.update(task.taskId, { name: 'ada' });
    const done = await until(async () => {
      const r = await b.get(task.taskId);
      return r?.status === 'completed' ? r : undefined;
    }, 5_000, 'completed on B');
    expect(done.result).toEqual({ content: [{ type: 'text', text: 'hello ada' }] });
  });

  it('A killed with SIGKILL mid-task: the task reads failed / instance-lost on B after the lease', async () => {
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const leaseMs = 600;
    const child = await spawnInstance<{ taskId: string }>(new URL('./tasks-owner-child.ts', import.meta.url), [redis.url, String(leaseMs)], cleanups);
    const { taskId } = child.first;
    const b = await instance(redis.url, 'b', leaseMs);
    expect(await b.get(taskId)).toMatchObject({ status: 'working', owner: 'child-a' });
    // While A lives and renews, B's sweep leaves its task alone.
    expect(await b.sweep()).toBe(0);

    const killedAt = Date.now();
    await child.kill();
    const lost = await until(async () => {
      const r = await b.get(taskId);
      return r?.status === 'failed' ? r : undefined;
    }, 10 * leaseMs, 'failed on B');
    expect(lost.reason).toBe('instance-lost');
    // Not before A's lease could have run out (A renewed it at most leaseMs/3 before dying).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(leaseMs / 2);
  });

  it('Redis killed and restarted mid-run: no crash, clear errors while down, tasks readable after', async () => {
    const redis = await startRedis({ persistent: true });
    cleanups.push(redis.stop);
    const errors: unknown[] = [];
    const store = await connectRedisTaskStore({ url: redis.url });
    const a = createTaskManager({ store, instanceId: 'a', leaseMs: 10_000, onError: (e) => errors.push(e) });
    await a.start();
    cleanups.push(async () => {
      await a.shutdown().catch(() => undefined);
      await store.close();
    });
    const { work } = untilAborted();
    const task = await a.run(work);

    await redis.kill();
    const down = await until(async () => {
      try {
        await a.get(task.taskId);
        return undefined;
      } catch (error) {
        return error;
      }
    }, 5_000, 'a store error while Redis is down');
    expect(down).toBeInstanceOf(TaskError);
    expect((down as TaskError).code).toBe('ERR_TASK_STORE_UNAVAILABLE');
    expect((down as TaskError).message).toMatch(/task store \(Redis\) unavailable/);
    // Create is refused, not acknowledged, while the store cannot confirm it.
    await expect(a.run(work)).rejects.toMatchObject({ code: 'ERR_TASK_STORE_UNAVAILABLE' });

    await redis.restart();
    const back = await until(() => a.get(task.taskId), 10_000, 'the task after the restart');
    expect(back).toMatchObject({ taskId: task.taskId, status: 'working', owner: 'a' });
    // And the instance works normally again: cancel still reaches the handler.
    expect(await until(async () => a.cancel(task.taskId), 5_000, 'cancel after restart')).toMatchObject({ status: 'cancelled', reason: 'client' });
    for (const e of errors) expect((e as TaskError).code).toBe('ERR_TASK_STORE_UNAVAILABLE');
  });
});
