/**
 * tasks: what a durable MCP task costs, in one process (run with `--expose-gc`).
 *
 * - **Round trip** over real HTTP on 127.0.0.1 (modern 2026-07-28 POSTs, one keep-alive
 *   connection, client and server in this process): `tools/call` of a task tool that answers at
 *   once, then `tasks/get` until it reads `completed` (no pause between polls), on the memory store
 *   and on a Redis store (a `redis-server` of its own on a loopback port). The baseline, measured in
 *   the same run on the same server, is a plain (non-task) `tools/call`. Reported: median µs per
 *   round trip and the ratio to the baseline, plus how many `tasks/get` a round trip took.
 * - **Memory per live task**: 10 000 tasks whose work waits for its abort, created through the task
 *   manager; heap after GC before and after, per task (the stored record, the running entry, the
 *   work's promise and closures). On Redis the process side (no record in process) and Redis's own
 *   `used_memory` growth per task are both given.
 *
 * Prints `RESULT {…}`.
 */
import { spawnSync } from 'node:child_process';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createMcpServer, defineTool } from '../../src/mcp/index.js';
import { connectRedisTaskStore, createMemoryTaskStore, createTaskManager, type TaskManager, type TaskStore } from '../../src/mcp/tasks/index.js';
import { listenHttp } from '../../src/transports/http.js';
import { startRedis } from '../../test/mcp/tasks-redis-server.js';
import { arg } from '../lib/closed-loop.js';
import { postOnce } from '../lib/http-load.js';
import { round } from '../lib/stats.js';

const ROUND_TRIPS = Number(arg('round-trips', '2000'));
const LIVE = Number(arg('live', '10000'));
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/** One store's figures. */
export interface TaskStoreFigures {
  /** Median µs of a plain (non-task) `tools/call` on the same server, in the same run: the baseline. */
  plainCallUs: number;
  /** Median µs of a task create → completed round trip. */
  roundTripUs: number;
  /** Round trip / plain tools/call (same run, same server). */
  ratioToPlainCall: number;
  /** Median `tasks/get` requests until `completed` was read. */
  polls: number;
  /** Process heap per live task (bytes). */
  heapPerLiveTask: number;
  /** Redis `used_memory` per live task (bytes; Redis store only). */
  redisPerLiveTask?: number;
}

/** What the tasks scenario reports. */
export interface TasksBenchResult {
  roundTrips: number;
  liveTasks: number;
  memory: TaskStoreFigures;
  /** `undefined` when redis-server is not installed. */
  redis?: TaskStoreFigures;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

let nextId = 0;
const meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '0' },
};

async function post(agent: Agent, url: URL, method: string, params: Record<string, unknown>, name: string | undefined): Promise<Record<string, unknown>> {
  const id = ++nextId;
  const headers: Record<string, string> = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method };
  if (name !== undefined) headers['mcp-name'] = name;
  const answer = await postOnce(agent, url, headers, JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }));
  const result = (answer.message as { result?: Record<string, unknown> }).result;
  if (answer.status !== 200 || result === undefined) throw new Error(`${method}: HTTP ${answer.status} ${JSON.stringify(answer.message)}`);
  return result;
}

const tools = [
  defineTool({ name: 'plain', input: z.object({}), run: () => 'ok' }),
  defineTool({ name: 'quick', input: z.object({}), task: true, run: () => 'ok' }),
];

/** Median µs of `plain` calls and of task round trips, on one server whose tasks live in `store`. */
async function roundTrips(store: TaskStore): Promise<{ plainUs: number; taskUs: number; polls: number }> {
  const tasks = createTaskManager({ store });
  const server = createMcpServer({ name: 'bench-tasks', version: '0', tools, tasks });
  const listener = await listenHttp(server, { host: '127.0.0.1', port: 0, path: '/mcp' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(listener.url);
  try {
    const plain = async (): Promise<void> => void (await post(agent, url, 'tools/call', { name: 'plain', arguments: {} }, 'plain'));
    let polls = 0;
    const task = async (): Promise<void> => {
      const created = await post(agent, url, 'tools/call', { name: 'quick', arguments: {} }, 'quick');
      const taskId = created['taskId'] as string;
      for (let i = 0; i < 10_000; i++) {
        polls++;
        if ((await post(agent, url, 'tasks/get', { taskId }, taskId))['status'] === 'completed') return;
      }
      throw new Error(`task ${taskId} did not complete`);
    };
    const time = async (fn: () => Promise<void>, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const start = performance.now();
        await fn();
        out.push((performance.now() - start) * 1000);
      }
      return out;
    };
    // Warm up both paths, then interleave the measured blocks so drift hits both alike.
    await time(plain, 200);
    await time(task, 200);
    polls = 0;
    const plainUs: number[] = [];
    const taskUs: number[] = [];
    for (let block = 0; block < 4; block++) {
      plainUs.push(...(await time(plain, ROUND_TRIPS / 4)));
      taskUs.push(...(await time(task, ROUND_TRIPS / 4)));
    }
    return { plainUs: median(plainUs), taskUs: median(taskUs), polls: polls / ROUND_TRIPS };
  } finally {
    agent.destroy();
    await listener.close();
    await server.close();
    await tasks.shutdown();
  }
}

/** Heap (and Redis memory) per live task: `LIVE` tasks waiting for their abort. */
async function livePerTask(store: TaskStore, redisMemory?: () => Promise<number>): Promise<{ heap: number; redis?: number }> {
  const tasks: TaskManager = createTaskManager({ store });
  await tasks.start();
  const work = (ctx: { signal: AbortSignal }): Promise<unknown> =>
    new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
  gc!();
  const heapBefore = process.memoryUsage().heapUsed;
  const redisBefore = await redisMemory?.();
  for (let i = 0; i < LIVE; i++) await tasks.run(work, { ttlMs: 600_000 });
  gc!();
  const heapAfter = process.memoryUsage().heapUsed;
  const redisAfter = await redisMemory?.();
  if (tasks.runningCount !== LIVE) throw new Error(`${tasks.runningCount} tasks running, expected ${LIVE}`);
  await tasks.shutdown();
  const out: { heap: number; redis?: number } = { heap: Math.round((heapAfter - heapBefore) / LIVE) };
  if (redisBefore !== undefined && redisAfter !== undefined) out.redis = Math.round((redisAfter - redisBefore) / LIVE);
  return out;
}

async function figures(makeStore: () => Promise<TaskStore>, redisMemory?: () => Promise<number>): Promise<TaskStoreFigures> {
  const tripStore = await makeStore();
  const trips = await roundTrips(tripStore);
  await tripStore.close();
  const liveStore = await makeStore();
  const live = await livePerTask(liveStore, redisMemory);
  await liveStore.close();
  const out: TaskStoreFigures = {
    plainCallUs: round(trips.plainUs, 1),
    roundTripUs: round(trips.taskUs, 1),
    ratioToPlainCall: round(trips.taskUs / trips.plainUs, 2),
    polls: round(trips.polls, 2),
    heapPerLiveTask: live.heap,
  };
  if (live.redis !== undefined) out.redisPerLiveTask = live.redis;
  return out;
}

const memory = await figures(async () => createMemoryTaskStore({ maxTasks: LIVE + 1_000 }));
const result: TasksBenchResult = { roundTrips: ROUND_TRIPS, liveTasks: LIVE, memory };
if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0) {
  const redis = await startRedis();
  const info = new Redis(redis.url);
  const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await info.info('memory'))?.[1]);
  try {
    let db = 0;
    result.redis = await figures(async () => connectRedisTaskStore({ url: redis.url, prefix: `bench${db++}:` }), usedMemory);
  } finally {
    info.disconnect();
    await redis.stop();
  }
}
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
