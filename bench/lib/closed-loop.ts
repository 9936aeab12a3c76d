import { performance } from 'node:perf_hooks';
import { LatencyRecorder, toResult, type LoadResult } from './stats.js';

/** One in-process client channel: `call()` sends one echo request and settles with its answer. */
export type Call = () => Promise<boolean>;

/**
 * An in-process closed loop: `channels.length` connections × `inFlight` workers, each awaiting one
 * call after another. Phases are read from the clock on every call (not from timers), because an
 * in-process transport may answer in microtasks only and never let a timer fire. Only answers inside
 * the measured window count.
 */
export async function closedLoop(
  name: string,
  channels: Call[],
  inFlight: number,
  warmupMs: number,
  measureMs: number,
): Promise<LoadResult> {
  const recorder = new LatencyRecorder();
  let errors = 0;
  const cpuStart = process.cpuUsage();
  let cpuMeasureStart: NodeJS.CpuUsage | undefined;
  let cpuMeasureEnd: NodeJS.CpuUsage | undefined;
  const begin = performance.now();
  const measureFrom = begin + warmupMs;
  const stopAt = measureFrom + measureMs;
  const worker = async (call: Call): Promise<void> => {
    for (;;) {
      const start = performance.now();
      if (start >= measureFrom && cpuMeasureStart === undefined) cpuMeasureStart = process.cpuUsage(cpuStart);
      if (start >= stopAt) {
        cpuMeasureEnd ??= process.cpuUsage(cpuStart);
        return;
      }
      const ok = await call();
      if (!ok) errors += 1;
      const end = performance.now();
      if (start >= measureFrom && end <= stopAt) recorder.add(end - start);
    }
  };
  const workers: Promise<void>[] = [];
  for (const call of channels) for (let k = 0; k < inFlight; k += 1) workers.push(worker(call));
  await Promise.all(workers);
  const cpuMs =
    cpuMeasureStart === undefined || cpuMeasureEnd === undefined
      ? undefined
      : (cpuMeasureEnd.user + cpuMeasureEnd.system - cpuMeasureStart.user - cpuMeasureStart.system) / 1000;
  return toResult(name, channels.length, inFlight, recorder, measureMs, errors, cpuMs);
}

/** Parse `1x1,1x32,100x32` into shapes. */
export function parseShapes(text: string): Array<{ connections: number; inFlight: number }> {
  return text.split(',').map((part) => {
    const [c, k] = part.split('x').map(Number);
    return { connections: c ?? 1, inFlight: k ?? 1 };
  });
}

/** Read `--name value` from argv. */
export function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}
