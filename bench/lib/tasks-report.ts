import type { TaskStoreFigures, TasksBenchResult } from '../scenarios/tasks.js';

const store = (name: string, f: TaskStoreFigures): string => {
  const redis = f.redisPerLiveTask === undefined ? '' : ` + ${f.redisPerLiveTask} B in Redis`;
  return `${name}: round trip ${f.roundTripUs} µs = ${f.ratioToPlainCall}× a plain tools/call (${f.plainCallUs} µs, same run), ${f.polls} tasks/get each; ${f.heapPerLiveTask} B heap per live task${redis}`;
};

/**
 * The lines of the `tasks` bench scenario (create → complete round trip per store, memory per live task).
 *
 * @example
 * ```ts
 * lines.push(...tasksLines(report.tasks));
 * ```
 */
export function tasksLines(t: TasksBenchResult | undefined): string[] {
  if (t === undefined) return [];
  const lines = [`tasks (${t.roundTrips} round trips over HTTP, ${t.liveTasks} live tasks):`, `  ${store('memory store', t.memory)}`];
  lines.push(t.redis === undefined ? '  redis store: skipped (redis-server is not installed)' : `  ${store('redis store', t.redis)}`);
  return lines;
}
