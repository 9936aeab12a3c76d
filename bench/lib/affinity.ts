import { execFileSync } from 'node:child_process';
import os from 'node:os';

/**
 * CPU pinning for a load run on Linux: the server processes on one CPU, the load generator (this
 * process) on another, so neither migrates between CPUs mid-run. On these shared 2-core machines an
 * unpinned server's CPU per request swings by 2× from one stretch of seconds to the next; pinned,
 * the same windows stay within a few per cent. Needs `taskset` (util-linux) and two CPUs; without
 * them nothing is pinned and {@link pinForLoad} says so.
 */
export interface Pinning {
  /** Whether the processes were pinned (false: no taskset, one CPU, or not Linux). */
  readonly pinned: boolean;
  /** Undo the pinning of this process (the servers are stopped by their owner). */
  restore(): void;
}

function taskset(args: string[]): boolean {
  try {
    execFileSync('taskset', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pin every thread of `serverPids` to the last CPU and this process to the first.
 *
 * @example
 * ```ts
 * const pinning = pinForLoad([fixture.child.pid]);
 * try { await runHttpLoad(...); } finally { pinning.restore(); }
 * ```
 */
export function pinForLoad(serverPids: readonly number[]): Pinning {
  const cpus = os.cpus().length;
  if (process.platform !== 'linux' || cpus < 2) return { pinned: false, restore: () => {} };
  const all = `0-${cpus - 1}`;
  const serverCpu = String(cpus - 1);
  const pinned = serverPids.every((pid) => taskset(['-a', '-p', '-c', serverCpu, String(pid)])) && taskset(['-a', '-p', '-c', '0', String(process.pid)]);
  return {
    pinned,
    restore: () => {
      taskset(['-a', '-p', '-c', all, String(process.pid)]);
    },
  };
}
