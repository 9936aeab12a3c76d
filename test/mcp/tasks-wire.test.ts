/**
 * The tasks extension on the MCP wire (one instance, in-memory store, real HTTP on 127.0.0.1):
 * task creation acknowledged after the store write, polling, input through tasks/update, cancel
 * reaching the handler with reason `client`, and a clear answer for every bad request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode, JsonRpcError } from '../../src/index.js';
import { createMcpServer, defineTool, type McpServer } from '../../src/mcp/index.js';
import { createMemoryTaskStore, createTaskManager, TaskError, type TaskStore } from '../../src/mcp/tasks/index.js';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';
import { createDeferred } from '../helpers/deferred.js';
import { until } from './tasks-redis-server.js';
import { mcp, ok, pollTask } from './tasks-wire-client.js';

const aborts: unknown[] = [];
const started = { count: 0 };
let release = createDeferred<void>();

const tools = [
  defineTool({ name: 'plain', input: z.object({}), run: () => 'plain' }),
  defineTool({
    name: 'wait',
    input: z.object({}),
    task: 'optional',
    run: async (_args, ctx) => {
      started.count++;
      ctx.progress(1, 2, 'half way');
      await new Promise<void>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborts.push(ctx.signal.reason);
          reject(ctx.signal.reason as Error);
        });
        void release.promise.then(resolve);
      });
      return { content: [{ type: 'text', text: `done ${ctx.taskId === undefined ? 'in the request' : 'as a task'}` }] };
    },
  }),
  defineTool({
    name: 'ask',
    input: z.object({}),
    task: true,
    run: async (_args, ctx) => {
      const answers = await ctx.requestInput({
        a: { method: 'elicitation/create', params: { message: 'a?', requestedSchema: { type: 'object', properties: {} } } },
        b: { method: 'elicitation/create', params: { message: 'b?', requestedSchema: { type: 'object', properties: {} } } },
      });
      return `a=${JSON.stringify(answers['a'])} b=${JSON.stringify(answers['b'])}`;
    },
  }),
  defineTool({
    name: 'brief',
    input: z.object({}),
    task: true,
    taskTtlMs: 300,
    run: (_args, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborts.push(ctx.signal.reason);
          reject(ctx.signal.reason as Error);
        });
      }),
  }),
  defineTool({
    name: 'broken',
    input: z.object({}),
    task: true,
    run: () => {
      throw new JsonRpcError(ErrorCode.InternalError, 'broken inside');
    },
  }),
];

let server: McpServer | undefined;
let listener: HttpListener | undefined;

async function start(store: TaskStore = createMemoryTaskStore()): Promise<string> {
  const tasks = createTaskManager({ store, pollIntervalMs: 250 });
  server = createMcpServer({ name: 'tasks-wire', version: '0', tools, tasks });
  listener = await listenHttp(server, { host: '127.0.0.1', port: 0, path: '/mcp' });
  return listener.url;
}

afterEach(async () => {
  release.resolve();
  release = createDeferred<void>();
  aborts.length = 0;
  started.count = 0;
  await listener?.close();
  await server?.close();
  await server?.mcp.tasks?.shutdown();
  server = undefined;
  listener = undefined;
});

describe('tasks on the wire', () => {
  it('advertises the extension and lists task support per tool', async () => {
    const url = await start();
    const discover = await ok(url, 'server/discover');
    expect(discover['capabilities']).toMatchObject({ extensions: { 'io.modelcontextprotocol/tasks': {} } });
    const list = (await ok(url, 'tools/list'))['tools'] as { name: string; execution?: unknown }[];
    expect(list.find((t) => t.name === 'wait')?.execution).toEqual({ taskSupport: 'optional' });
    expect(list.find((t) => t.name === 'ask')?.execution).toEqual({ taskSupport: 'required' });
    expect(list.find((t) => t.name === 'plain')?.execution).toBeUndefined();
  });

  it('creates a task that is readable at once, then completes with its result inlined', async () => {
    const url = await start();
    const created = await ok(url, 'tools/call', { name: 'wait', arguments: {} });
    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 3_600_000, pollIntervalMs: 250 });
    expect(created).not.toHaveProperty('result');
    const taskId = created['taskId'] as string;
    const working = await ok(url, 'tasks/get', { taskId });
    expect(working).toMatchObject({ resultType: 'complete', taskId, status: 'working' });
    release.resolve();
    const done = await pollTask(url, taskId, (t) => t['status'] === 'completed');
    expect(done['result']).toEqual({ content: [{ type: 'text', text: 'done as a task' }] });
  });

  it('runs an optional task tool in the request when the client did not declare the extension', async () => {
    const url = await start();
    release.resolve();
    const answer = await mcp(url, 'tools/call', { name: 'wait', arguments: {} }, { tasks: false });
    expect(answer.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'done in the request' }] });
  });

  it('refuses a task-only tool and the tasks methods without the extension (-32021)', async () => {
    const url = await start();
    const call = await mcp(url, 'tools/call', { name: 'ask', arguments: {} }, { tasks: false });
    expect(call.body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } } } });
    for (const method of ['tasks/get', 'tasks/cancel']) {
      expect((await mcp(url, method, { taskId: 'x' }, { tasks: false })).body.error?.code).toBe(-32021);
    }
    expect((await mcp(url, 'tasks/update', { taskId: 'x', inputResponses: {} }, { tasks: false })).body.error?.code).toBe(-32021);
  });

  it('answers -32602 for an unknown or missing task id and a malformed inputResponses', async () => {
    const url = await start();
    for (const method of ['tasks/get', 'tasks/cancel']) {
      expect((await mcp(url, method, { taskId: 'nope' })).body.error).toMatchObject({ code: -32602, data: { taskId: 'nope' } });
      expect((await mcp(url, method, {})).body.error?.code).toBe(-32602);
    }
    expect((await mcp(url, 'tasks/update', { taskId: 'nope', inputResponses: {} })).body.error?.code).toBe(-32602);
    const created = await ok(url, 'tools/call', { name: 'wait', arguments: {} });
    const bad = await mcp(url, 'tasks/update', { taskId: created['taskId'], inputResponses: 'yes' });
    expect(bad.body.error?.code).toBe(-32602);
  });

  it('rejects tasks/get whose Mcp-Name header disagrees with the task id (-32020, HTTP 400)', async () => {
    const url = await start();
    const created = await ok(url, 'tools/call', { name: 'wait', arguments: {} });
    const answer = await mcp(url, 'tasks/get', { taskId: created['taskId'] }, { headers: { 'mcp-name': 'another-task' } });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe(-32020);
  });

  it('cancels: the ack is empty, the handler sees reason client, the task reads cancelled; a second cancel acks the same', async () => {
    const url = await start();
    const taskId = (await ok(url, 'tools/call', { name: 'wait', arguments: {} }))['taskId'] as string;
    await pollTask(url, taskId, () => started.count === 1);
    const ack = await ok(url, 'tasks/cancel', { taskId });
    expect(Object.keys(ack).filter((k) => k !== '_meta')).toEqual(['resultType']);
    const cancelled = await pollTask(url, taskId, (t) => t['status'] === 'cancelled');
    expect(cancelled['statusMessage']).toBe('stopped: client');
    expect(aborts).toHaveLength(1);
    expect(aborts[0]).toBeInstanceOf(TaskError);
    expect((aborts[0] as TaskError).reason).toBe('client');
    expect(await ok(url, 'tasks/cancel', { taskId })).toMatchObject({ resultType: 'complete' });
    expect((await ok(url, 'tasks/get', { taskId }))['status']).toBe('cancelled');
  });

  it('takes input through tasks/update, one key at a time; stray keys are ignored', async () => {
    const url = await start();
    const taskId = (await ok(url, 'tools/call', { name: 'ask', arguments: {} }))['taskId'] as string;
    const asking = await pollTask(url, taskId, (t) => t['status'] === 'input_required');
    expect(Object.keys(asking['inputRequests'] as object).sort()).toEqual(['a', 'b']);
    expect(await ok(url, 'tasks/update', { taskId, inputResponses: { a: { action: 'accept', content: { v: 1 } }, stray: { x: 1 } } })).toMatchObject({
      resultType: 'complete',
    });
    const half = await ok(url, 'tasks/get', { taskId });
    expect(half['status']).toBe('input_required');
    expect(Object.keys(half['inputRequests'] as object)).toEqual(['b']);
    await ok(url, 'tasks/update', { taskId, inputResponses: { b: { action: 'decline' } } });
    const done = await pollTask(url, taskId, (t) => t['status'] === 'completed');
    expect(done['result']).toEqual({ content: [{ type: 'text', text: 'a={"action":"accept","content":{"v":1}} b={"action":"decline"}' }] });
  });

  it('fails a task whose handler throws a protocol error, with the error inlined', async () => {
    const url = await start();
    const taskId = (await ok(url, 'tools/call', { name: 'broken', arguments: {} }))['taskId'] as string;
    const failed = await pollTask(url, taskId, (t) => t['status'] === 'failed');
    expect(failed['error']).toEqual({ code: -32603, message: 'broken inside' });
    expect(failed).not.toHaveProperty('result');
  });

  it('refuses to create a task the store cannot hold, with a clear error and no task id', async () => {
    const url = await start(createMemoryTaskStore({ maxTasks: 1 }));
    await ok(url, 'tools/call', { name: 'wait', arguments: {} });
    const refused = await mcp(url, 'tools/call', { name: 'wait', arguments: {} });
    expect(refused.body.result).toBeUndefined();
    expect(refused.body.error).toMatchObject({ code: -32603, data: { code: 'ERR_TASK_STORE_FULL' } });
  });

  it('fails the running tasks with shutdown when the manager shuts down; the handler is aborted with reason shutdown', async () => {
    const url = await start();
    const taskId = (await ok(url, 'tools/call', { name: 'wait', arguments: {} }))['taskId'] as string;
    await pollTask(url, taskId, () => started.count === 1);
    await server!.mcp.tasks!.shutdown();
    const failed = await ok(url, 'tasks/get', { taskId });
    expect(failed).toMatchObject({ status: 'failed', error: { code: -32603, message: 'task failed: shutdown', data: { reason: 'shutdown' } } });
    expect((aborts[0] as TaskError).reason).toBe('shutdown');
    const refused = await mcp(url, 'tools/call', { name: 'wait', arguments: {} });
    expect(refused.body.error).toMatchObject({ code: -32603, message: 'Task manager is shut down' });
  });

  it('a task past its ttl is gone (-32602) and its handler is aborted with reason ttl-expired', async () => {
    const url = await start();
    const created = await ok(url, 'tools/call', { name: 'brief', arguments: {} });
    expect(created['ttlMs']).toBe(300);
    const taskId = created['taskId'] as string;
    const gone = await until(async () => (await mcp(url, 'tasks/get', { taskId })).body.error, 5_000, 'the task to expire');
    expect(gone).toMatchObject({ code: -32602, data: { taskId } });
    await until(async () => aborts[0], 5_000, 'the abort of the expired task');
    expect((aborts[0] as TaskError).reason).toBe('ttl-expired');
  });
});
