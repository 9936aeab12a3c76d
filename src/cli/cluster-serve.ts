import cluster from 'node:cluster';
import { runClusterPrimary, sumStats, type WorkerEnd } from '../cluster.js';
import type { ServeOptions } from './args.js';
import { lifetimeCounters } from './counters.js';
import { runServe } from './serve.js';

const writeErr = (text: string): void => {
  process.stderr.write(text);
};

/** The workers `serve` runs: `--workers`, default 1 (see docs/operations-scale.md for why). */
export function workerCount(options: ServeOptions): number {
  return options.stdio ? 1 : (options.workers ?? 1);
}

function describeEnd(end: WorkerEnd): object {
  return { worker: end.id, pid: end.pid, code: end.code, signal: end.signal, phases: end.phases };
}

/**
 * `serve` with `--workers N` (N > 1) on node:cluster: the primary forks N workers sharing the port,
 * replaces one that dies (a JSON line `worker replaced` on stderr: its sessions ended with it), and
 * on SIGTERM forwards it to every worker; once all have exited it prints the summed counters with
 * each worker's phases as the last stderr line and exits 0 when every worker exited 0. A worker runs
 * `serve` as one process would, and reports its final stats to the primary over IPC.
 *
 * @example
 * ```ts
 * const options = parseServeArgs(['--workers', '2']);
 * if (options.kind === 'serve') await runServeCluster(options);
 * ```
 */
export async function runServeCluster(options: ServeOptions): Promise<void> {
  const workers = workerCount(options);
  if (workers === 1 || cluster.isWorker) {
    await runServe(options);
    return;
  }
  writeErr(`${JSON.stringify({ msg: 'cluster', workers, pid: process.pid })}\n`);
  const primary = runClusterPrimary({
    workers,
    onWorkerExit: (end) => {
      if (end.replaced) writeErr(`${JSON.stringify({ msg: 'worker replaced', reason: 'worker-exit', ...describeEnd(end) })}\n`);
    },
  });
  const ends = await primary.stopped;
  const finals = ends.filter((e) => !e.replaced);
  const total = sumStats(finals.flatMap((e) => (e.stats === undefined ? [] : [e.stats])));
  const summary = {
    ...(total === undefined ? {} : lifetimeCounters(total)),
    workers: finals.map(describeEnd),
    workersReplaced: primary.replaced,
  };
  writeErr(`${JSON.stringify(summary)}\n`);
  const clean = finals.every((e) => e.code === 0 && e.stats !== undefined);
  process.exitCode = clean ? 0 : 1;
}
