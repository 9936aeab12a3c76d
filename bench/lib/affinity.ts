import { execFileSync } from 'node:child_process';

/**
 * CPU pinning for a load run on Linux: the server processes on one CPU, the load generator (this
 * process) on another, so neither migrates between CPUs mid-run. On these shared 2-core machines an
 * unpinned server's CPU per request swings by 2× from one stretch of seconds to the next; pinned,
 * the same windows stay within a few per cent. Needs `taskset` (util-linux) and two CPUs this
 * process may use; without them nothing is pinned and {@link pinForLoad} says so.
 */
export interface Pinning {
  /** Whether the processes were pinned (false: no taskset, one CPU, or not Linux). */
  readonly pinned: boolean;
  /** Undo the pinning of this process (the servers are stopped by their owner). */
  restore(): void;
}

function taskset(args: string[]): string | undefined {
  try {
    return execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** The CPUs a process may run on (`taskset -pc`: "0,1" or "0-3,6"), expanded; `[]` if unknown. */
function allowedCpus(pid: number): number[] {
  const list = taskset(['-pc', String(pid)])?.split(':').pop()?.trim();
  if (list === undefined || list === '') return [];
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [from, to = from] = part.split('-').map(Number);
    if (from === undefined || to === undefined || !Number.isInteger(from) || !Number.isInteger(to)) return [];
    for (let cpu = from; cpu <= to; cpu += 1) cpus.push(cpu);
  }
  return cpus;
}

/**
 * Pin every thread of `serverPids` to the last CPU this process may use and this process to the
 * first; `restore()` gives this process back the CPUs it had.
 *
 * @example
 * ```ts
 * const pinning = pinForLoad([fixture.child.pid]);
 * try { await runHttpLoad(...); } finally { pinning.restore(); }
 * ```
 */
export function pinForLoad(serverPids: readonly number[]): Pinning {
  const unpinned: Pinning = { pinned: false, restore: () => {} };
  if (process.platform !== 'linux') return unpinned;
  const cpus = allowedCpus(process.pid);
  if (cpus.length < 2) return unpinned;
  const original = cpus.join(',');
  const serverCpu = String(cpus[cpus.length - 1]);
  const restore = (): void => {
    taskset(['-a', '-p', '-c', original, String(process.pid)]);
  };
  const pinned =
    serverPids.every((pid) => taskset(['-a', '-p', '-c', serverCpu, String(pid)]) !== undefined) &&
    taskset(['-a', '-p', '-c', String(cpus[0]), String(process.pid)]) !== undefined;
  if (!pinned) restore();
  return { pinned, restore };
}
