/**
 * Durable MCP tasks: the store interface and its memory and Redis stores, and the per-instance
 * task manager (see docs/tasks.md).
 *
 * @example
 * ```ts
 * import { createTaskManager, connectRedisTaskStore } from './tasks/index.js';
 * const tasks = createTaskManager({ store: await connectRedisTaskStore({ url: 'redis://127.0.0.1:6379' }) });
 * ```
 */
export { createTaskManager } from './manager.js';
export type { TaskManager, TaskManagerOptions, TaskRunContext } from './manager.js';
export { createMemoryTaskStore } from './memory-store.js';
export type { MemoryTaskStoreOptions } from './memory-store.js';
export { connectRedisTaskStore } from './redis-store.js';
export type { RedisTaskStoreOptions } from './redis-store.js';
export type { TaskWork } from './manager.js';
export { applyTaskEvent, isTerminal, patchRecord, TaskError } from './record.js';
export type { TaskErrorObject, TaskOrigin, TaskPatch, TaskRecord } from './record.js';
export type { TaskSignal, TaskStore } from './store.js';
export { declaresTasks, TASKS_EXTENSION } from './extension.js';
export type { TaskToolContext } from './tool-task.js';
export { createTaskResult, detailedTask, taskMethods } from './wire.js';
