/**
 * Durable tasks across instances through the MCP wire: real HTTP listeners on 127.0.0.1 sharing one
 * real Redis (Debian's redis-server on a loopback port of its own). A task created on A is read and
 * cancelled through B; an owner killed with SIGKILL loses its task (`failed`, `instance-lost`)
 * unless the tool is idempotent, in which case another instance takes it over and finishes it;
 * while Redis is down the wire answers with a clear error, and tasks read again once it is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/mcp/index.js';
import { connectRedisTaskStore, createTaskManager, TaskError } from '../../src/mcp/tasks/index.js';
import { listenHttp } from '../../src/transports/http.js';
import { createDeferred } from '../helpers/deferred.js';
import { instanceTools, type Seen } from './tasks-http-tools.js';
import { spawnInstance, startRedis, until } from './tasks-redis-server.js';
import { mcp, ok, pollTask } from './tasks-wire-client.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

/** One instance: an MCP server with its own task manager and Redis connection, on its own listener. */
async function instance(redisUrl: string, label: string, opts: { block: boolean; leaseMs?: number; gate?: Promise<void> }) {
  const seen: Seen = { aborts: [], started: [] };
  if (opts.gate !== undefined) seen.gate = opts.gate;
  const store = await connectRedisTaskStore({ url: redisUrl });
  const tasks = createTaskManager({ store, instanceId: label, leaseMs: opts.leaseMs ?? 5_000, onError: () => undefined });
  const server = createMcpServer({ name: label, version: '0', tools: instanceTools(label, opts.block, seen), tasks });
  const listener = await listenHttp(server, { host: '127.0.0.1', port: 0, path: '/mcp' });
  cleanups.push(async () => {
    await listener.close();
    await server.close();
    await tasks.shutdown().catch(() => undefined);
    await store.close();
  });
  await tasks.start();
  return { url: listener.url, seen, tasks };
}

/** Instance A as a child process (so it can be killed with SIGKILL). */
async function childInstance(redisUrl: string, leaseMs: number) {
  const child = await spawnInstance<{ url: string }>(new URL('./tasks-http-child.ts', import.meta.url), [redisUrl, String(leaseMs)], cleanups);
  return { url: child.first.url, kill: child.kill };
}

describe('tasks across instances (MCP over HTTP, one Redis)', () => {
  it('a task created on A is read and cancelled through B; A’s handler is aborted with reason client within 1 s', async () => {
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const a = await instance(redis.url, 'a', { block: true });
    const b = await instance(redis.url, 'b', { block: true });
    const created = await ok(a.url, 'tools/call', { name: 'fragile', arguments: {} });
    const taskId = created['taskId'] as string;
    expect(await ok(b.url, 'tasks/get', { taskId })).toMatchObject({ taskId, status: 'working' });
    await until(async () => (a.seen.started.length === 1 ? true : undefined), 5_000, 'the handler started on A');

    const aborted = until(async () => a.seen.aborts[0], 1_000, 'the abort on A');
    expect(await ok(b.url, 'tasks/cancel', { taskId })).toMatchObject({ resultType: 'complete' });
    const reason = await aborted;
    expect(reason).toBeInstanceOf(TaskError);
    expect((reason as TaskError).reason).toBe('client');
    expect(await ok(b.url, 'tasks/get', { taskId })).toMatchObject({ status: 'cancelled', statusMessage: 'stopped: client' });
    expect(await ok(a.url, 'tasks/get', { taskId })).toMatchObject({ status: 'cancelled' });
    expect(b.seen.started).toEqual([]);
  });

  it('A killed with SIGKILL: its idempotent task is taken over and finished by B, the other one fails with instance-lost', async () => {
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const leaseMs = 600;
    const a = await childInstance(redis.url, leaseMs);
    const b = await instance(redis.url, 'b', { block: false, leaseMs });
    const held = (await ok(a.url, 'tools/call', { name: 'hold', arguments: {} }))['taskId'] as string;
    const fragile = (await ok(a.url, 'tools/call', { name: 'fragile', arguments: {} }))['taskId'] as string;
    // While A lives, B leaves its tasks alone.
    expect(await b.tasks.sweep()).toBe(0);
    expect(b.seen.started).toEqual([]);

    await a.kill();
    const lost = await pollTask(b.url, fragile, (t) => t['status'] === 'failed', 20 * leaseMs);
    expect(lost['error']).toMatchObject({ code: -32603, data: { reason: 'instance-lost' } });
    expect(lost['statusMessage']).toBe('stopped: instance-lost');
    const finished = await pollTask(b.url, held, (t) => t['status'] === 'completed', 20 * leaseMs);
    expect(finished['result']).toEqual({ content: [{ type: 'text', text: 'hold ran on b' }] });
    expect(b.seen.started).toEqual([`hold:${held}`]);
    expect((await b.tasks.get(held))?.takeovers).toBe(1);
  });

  it('two survivors race for an orphaned idempotent task: exactly one takes it over', async () => {
    const redis = await startRedis();
    cleanups.push(redis.stop);
    const leaseMs = 600;
    const a = await childInstance(redis.url, leaseMs);
    const b = await instance(redis.url, 'b', { block: false, leaseMs });
    const c = await instance(redis.url, 'c', { block: false, leaseMs });
    const held = (await ok(a.url, 'tools/call', { name: 'hold', arguments: {} }))['taskId'] as string;
    await a.kill();
    const done = await pollTask(c.url, held, (t) => t['status'] === 'completed', 20 * leaseMs);
    const ranOn = (done['result'] as { content: { text: string }[] }).content[0]!.text;
    expect(['hold ran on b', 'hold ran on c']).toContain(ranOn);
    expect(b.seen.started.length + c.seen.started.length).toBe(1);
    expect((await c.tasks.get(held))?.takeovers).toBe(1);
  });

  it('Redis down: the wire answers -32603 (store unavailable) without a crash; after the restart the task reads again', async () => {
    const redis = await startRedis({ persistent: true });
    cleanups.push(redis.stop);
    const a = await instance(redis.url, 'a', { block: true, leaseMs: 30_000 });
    const taskId = (await ok(a.url, 'tools/call', { name: 'fragile', arguments: {} }))['taskId'] as string;
    await redis.kill();
    const down = await until(async () => {
      const answer = await mcp(a.url, 'tasks/get', { taskId });
      return answer.body.error;
    }, 5_000, 'an error while Redis is down');
    expect(down).toMatchObject({ code: -32603, message: 'Task store unavailable', data: { code: 'ERR_TASK_STORE_UNAVAILABLE' } });
    const refused = await mcp(a.url, 'tools/call', { name: 'fragile', arguments: {} });
    expect(refused.body.error).toMatchObject({ code: -32603, data: { code: 'ERR_TASK_STORE_UNAVAILABLE' } });

    await redis.restart();
    const back = await until(async () => (await mcp(a.url, 'tasks/get', { taskId })).body.result, 10_000, 'the task after the restart');
    expect(back).toMatchObject({ taskId, status: 'working' });
    expect(await ok(a.url, 'tasks/cancel', { taskId })).toMatchObject({ resultType: 'complete' });
    await until(async () => a.seen.aborts[0], 5_000, 'the abort after the restart');
    expect((a.seen.aborts[0] as TaskError).reason).toBe('client');
  });

  it('a result that arrives while Redis is down is written once Redis is back, not lost', async () => {
    const redis = await startRedis({ persistent: true });
    cleanups.push(redis.stop);
    const gate = createDeferred<void>();
    const a = await instance(redis.url, 'a', { block: false, leaseMs: 30_000, gate: gate.promise });
    const taskId = (await ok(a.url, 'tools/call', { name: 'finish', arguments: {} }))['taskId'] as string;
    await redis.kill();
    await until(async () => (await mcp(a.url, 'tasks/get', { taskId })).body.error, 5_000, 'an error while Redis is down');
    gate.resolve();
    await redis.restart();
    const done = await until(async () => {
      const task = (await mcp(a.url, 'tasks/get', { taskId })).body.result;
      return task?.['status'] === 'completed' ? task : undefined;
    }, 10_000, 'completed after the restart');
    expect(done['result']).toEqual({ content: [{ type: 'text', text: 'finish ran on a' }] });
  });
});
