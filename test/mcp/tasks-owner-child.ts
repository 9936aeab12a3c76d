/**
 * Instance A as a child process: joins the Redis task store, starts one task that runs until
 * aborted, prints `{"taskId": …}` and waits (the test kills it with SIGKILL).
 */
import { createTaskManager } from '../../src/mcp/tasks/manager.js';
import { connectRedisTaskStore } from '../../src/mcp/tasks/redis-store.js';

const url = process.argv[2]!;
const leaseMs = Number(process.argv[3]);
const store = await connectRedisTaskStore({ url });
const tasks = createTaskManager({ store, instanceId: 'child-a', leaseMs });
await tasks.start();
const task = await tasks.run((ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))), { ttlMs: 60_000 });
process.stdout.write(`${JSON.stringify({ taskId: task.taskId })}\n`);
