/**
 * An MCP instance as a child process for the takeover tests: an HTTP listener on 127.0.0.1 whose
 * tasks live in the Redis at argv[2] (lease argv[3] ms) and whose task tools block until aborted.
 * Prints `{"url": …}` once listening; the test kills it with SIGKILL.
 */
import { createMcpServer } from '../../src/mcp/index.js';
import { connectRedisTaskStore, createTaskManager } from '../../src/mcp/tasks/index.js';
import { listenHttp } from '../../src/transports/http.js';
import { instanceTools } from './tasks-http-tools.js';

const url = process.argv[2]!;
const leaseMs = Number(process.argv[3]);
const store = await connectRedisTaskStore({ url });
const tasks = createTaskManager({ store, instanceId: 'child-a', leaseMs });
const server = createMcpServer({ name: 'child-a', version: '0', tools: instanceTools('a', true), tasks });
const listener = await listenHttp(server, { host: '127.0.0.1', port: 0, path: '/mcp' });
process.stdout.write(`${JSON.stringify({ url: listener.url })}\n`);
