import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ROOT, stopChild } from '../lib/child.js';
import { runHttpLoad } from '../lib/http-load.js';
import { processesCpuMs } from '../lib/proc-cpu.js';
import type { LoadResult } from '../lib/stats.js';

/** The real CLI (`serve`) with `--workers N`, as a child process; its pids (primary and workers) for CPU. */
interface ClusterServe {
  child: ChildProcess;
  url: string;
  pids(): number[];
  stop(): Promise<void>;
}

/** Busy and total CPU time of the whole machine so far (ms), from /proc/stat (all cores). */
function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
  } catch {
    return undefined;
  }
}

/** The children of `pid` (Linux: /proc/PID/task/PID/children). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Start `serve --workers N` (through tsx, so the source runs as it is) on a free port, and resolve
 * once every worker printed its `listening http://` line. Bounded: 60 s.
 */
async function startServe(workers: number): Promise<ClusterServe> {
  const args = ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--quiet', '--log-level', 'warn', '--workers', String(workers)];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr! });
  const urls: string[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve --workers ${workers}: not listening after 60 s`)), 60_000);
    lines.on('line', (line) => {
      if (!line.startsWith('listening http://')) return;
      urls.push(line.slice('listening '.length));
      if (urls.length === workers) {
        clearTimeout(timer);
        resolve(urls[0]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve --workers ${workers} exited with ${String(code)}`)));
  });
  const url = await ready;
  return {
    child,
    url,
    pids: () => (workers === 1 ? [child.pid!] : [child.pid!, ...childPids(child.pid!)]),
    stop: () => stopChild(child, 15_000),
  };
}

/**
 * `cluster-http`: modern (2026-07-28) `tools/call echo` over HTTP/1.1 keep-alive against the real
 * CLI with `--workers 1` and `--workers 2`, 100 connections (node:cluster hands them to the workers
 * in turn). Server CPU is the primary's and every worker's, from /proc; the load client (this one
 * process, one thread) measures its own CPU per request too, since it shares the 2 cores. The
 * warm-up is 3× the other rows': each worker compiles the hot path on its own, from half the
 * traffic (with 1 s, `--workers 2` was measured half-warm: up to 2.4× the CPU per request).
 */
export async function runClusterHttp(timing: { warmupMs: number; measureMs: number }, connections = 100): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (const workers of [1, 2]) {
    const serve = await startServe(workers);
    try {
      const pids = serve.pids();
      if (pids.length !== (workers === 1 ? 1 : workers + 1)) throw new Error(`serve --workers ${workers}: found pids ${pids.join(',')}`);
      // The machine is shared: how many cores did everything else use during the run?
      const ours = (): number => (processesCpuMs(pids) ?? 0) + (process.cpuUsage().user + process.cpuUsage().system) / 1000;
      const m0 = machineCpuMs();
      const ours0 = ours();
      const t0 = performance.now();
      const result = await runHttpLoad({
        name: `cluster-http-workers${workers}`,
        url: serve.url,
        kind: 'modern',
        connections,
        warmupMs: timing.warmupMs * 3,
        measureMs: timing.measureMs,
        serverPid: pids,
      });
      const wallMs = performance.now() - t0;
      const m1 = machineCpuMs();
      const oursMs = ours() - ours0;
      const otherCores = m0 === undefined || m1 === undefined ? undefined : Math.round(((m1.busy - m0.busy - oursMs) / wallMs) * 100) / 100;
      results.push({ ...result, ...(otherCores === undefined ? {} : { otherCores: Math.max(0, otherCores) }) });
    } finally {
      await serve.stop();
    }
  }
  return results;
}
