import type { TaskEvent } from '../../../machines/task.js';
import { applyTaskEvent, isTerminal, patchRecord, TaskError, type TaskPatch, type TaskRecord } from './record.js';
import type { TaskSignal, TaskStore } from './store.js';

/**
 * Options of {@link connectRedisTaskStore}.
 *
 * @example
 * ```ts
 * await connectRedisTaskStore({ url: 'redis://127.0.0.1:6379', prefix: 'myapp:' });
 * ```
 */
export interface RedisTaskStoreOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** Key and channel prefix; default `mcp:tasks:`. */
  prefix?: string;
}

/** Compare-and-set on `version`: -1 unknown task, 0 conflict, 1 written. */
const CAS = `
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return -1 end
if v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
if ARGV[2] == '1' then redis.call('SREM', KEYS[2], ARGV[3]) end
return 1`;

const MAX_CAS_ATTEMPTS = 16;

function encode(record: TaskRecord): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out.push(k, JSON.stringify(v));
  return out;
}

function decode(hash: Record<string, string>): TaskRecord | undefined {
  if (hash['taskId'] === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(hash)) out[k] = JSON.parse(v) as unknown;
  return out as unknown as TaskRecord;
}

/**
 * A task store on Redis, shared by every instance: one hash per task (expiring with the task's
 * `ttlMs`), a set of live task ids, one key per owner lease (`PX`), and one pub/sub channel for
 * cancel and update signals. Writes are compare-and-set (Lua) on a version field. While Redis is
 * down, every call rejects at once with `ERR_TASK_STORE_UNAVAILABLE`; the client reconnects and
 * resubscribes by itself.
 *
 * @example
 * ```ts
 * const store = await connectRedisTaskStore({ url: 'redis://127.0.0.1:6379' });
 * const tasks = createTaskManager({ store });
 * ```
 */
export async function connectRedisTaskStore(options: RedisTaskStoreOptions): Promise<TaskStore> {
  const prefix = options.prefix ?? 'mcp:tasks:';
  const key = (taskId: string): string => `${prefix}task:${taskId}`;
  const liveKey = `${prefix}live`;
  const leaseKey = (owner: string): string => `${prefix}lease:${owner}`;
  const channel = `${prefix}signals`;
  // ioredis is loaded on first use, so importing the MCP module costs nothing without Redis.
  const { Redis } = await import('ioredis');
  // Offline queue off on the command client: a command while Redis is down fails at once.
  const client = new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const subscriber = new Redis(options.url, { lazyConnect: true, autoResubscribe: false });
  const listeners = new Set<(signal: TaskSignal) => void>();
  // Connection errors surface as rejected commands; the clients' own 'error' events are expected
  // while Redis is down and must not crash the process.
  client.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_channel: string, message: string) => {
    let signal: TaskSignal;
    try {
      signal = JSON.parse(message) as TaskSignal;
    } catch {
      return;
    }
    for (const l of [...listeners]) l(signal);
  });

  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof TaskError) throw cause;
      throw new TaskError('ERR_TASK_STORE_UNAVAILABLE', `task store (Redis) unavailable during ${what}: ${(cause as Error).message}`, undefined, { cause });
    }
  };

  await call('connect', async () => {
    await client.connect();
    await subscriber.connect();
    await subscriber.subscribe(channel);
  });
  // Signals published while the subscriber was away are lost (pub/sub keeps nothing): once it is
  // subscribed again, tell the listeners to re-read the tasks they run (a `resync` signal).
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => {
        for (const l of [...listeners]) l({ taskId: '*', kind: 'resync' });
      },
      () => undefined,
    );
  });

  const get = (taskId: string): Promise<TaskRecord | undefined> => call('get', async () => decode(await client.hgetall(key(taskId))));

  /** Read, compute, compare-and-set; bounded retries on conflict. */
  const write = (taskId: string, next: (r: TaskRecord) => TaskRecord | undefined): Promise<TaskRecord | undefined> =>
    call('write', async () => {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
        const current = decode(await client.hgetall(key(taskId)));
        if (current === undefined) return undefined;
        const updated = next(current);
        if (updated === undefined) return undefined;
        const terminal = isTerminal(updated.status) ? '1' : '0';
        const done = (await client.eval(CAS, 2, key(taskId), liveKey, String(current.version), terminal, taskId, ...encode(updated))) as number;
        if (done === 1) return updated;
        if (done === -1) return undefined;
      }
      throw new TaskError('ERR_TASK_CONFLICT', `task ${taskId} kept changing; gave up after ${MAX_CAS_ATTEMPTS} attempts`);
    });

  return {
    create: (record) =>
      call('create', async () => {
        const result = await client.multi().hset(key(record.taskId), ...encode(record)).pexpire(key(record.taskId), record.ttlMs).sadd(liveKey, record.taskId).exec();
        const failed = result?.find(([error]) => error !== null);
        if (result === null || failed !== undefined) throw failed?.[0] ?? new Error('transaction aborted');
      }),
    get,
    transition: (taskId: string, event: TaskEvent, patch: TaskPatch = {}) => write(taskId, (r) => applyTaskEvent(r, event, patch)),
    patch: (taskId, patch) =>
      write(taskId, (r) => {
        const changes = patch(r);
        return changes === undefined ? undefined : patchRecord(r, changes);
      }),
    live: (limit) =>
      call('live', async () => {
        const ids = (await client.smembers(liveKey)).slice(0, limit);
        const alive: string[] = [];
        for (const id of ids) {
          if ((await client.exists(key(id))) === 1) alive.push(id);
          else await client.srem(liveKey, id);
        }
        return alive;
      }),
    renewLease: (owner, ms) => call('renewLease', async () => void (await client.set(leaseKey(owner), '1', 'PX', ms))),
    dropLease: (owner) => call('dropLease', async () => void (await client.del(leaseKey(owner)))),
    leaseHeld: (owner) => call('leaseHeld', async () => (await client.exists(leaseKey(owner))) === 1),
    publish: (signal) => call('publish', async () => void (await client.publish(channel, JSON.stringify(signal)))),
    subscribe(listener) {
      listeners.add(listener);
      return Promise.resolve(() => listeners.delete(listener));
    },
    async close() {
      listeners.clear();
      client.disconnect();
      subscriber.disconnect();
      return Promise.resolve();
    },
  };
}
