import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib → ../..). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Node arguments that run a TypeScript fixture of bench/. */
export function fixtureArgs(file: string, extraNodeArgs: string[] = []): string[] {
  return [...extraNodeArgs, '--import', 'tsx', fileURLToPath(new URL(`../${file}`, import.meta.url))];
}

/** SIGTERM `child` and wait for its exit; SIGKILL it if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** A fixture running in its own process, killed by `stop()`. */
export interface Fixture {
  child: ChildProcess;
  /** The JSON the fixture printed after `READY ` on stdout. */
  ready: Record<string, unknown>;
  /** Lines the fixture printed after READY that start with `RESULT ` (parsed). */
  nextResult(timeoutMs: number): Promise<Record<string, unknown>>;
  /** Send one line of JSON to the fixture's stdin (a command). */
  command(value: unknown): void;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Start a fixture that prints `READY {json}` on stdout once it is ready, and `RESULT {json}` lines
 * in answer to commands sent as JSON lines on stdin. Bounded by `timeoutMs`.
 */
export async function startFixture(
  file: string,
  args: string[] = [],
  options: { nodeArgs?: string[]; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Fixture> {
  const child = spawn(process.execPath, [...fixtureArgs(file, options.nodeArgs), ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines = createInterface({ input: child.stdout! });
  const results: Record<string, unknown>[] = [];
  const waiters: Array<(value: Record<string, unknown>) => void> = [];
  let resolveReady: (value: Record<string, unknown>) => void = () => {};
  const readyPromise = new Promise<Record<string, unknown>>((resolve) => {
    resolveReady = resolve;
  });
  lines.on('line', (line) => {
    if (line.startsWith('READY ')) resolveReady(JSON.parse(line.slice(6)) as Record<string, unknown>);
    else if (line.startsWith('RESULT ')) {
      const value = JSON.parse(line.slice(7)) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter(value);
      else results.push(value);
    }
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${file} exited early with code ${String(code)}`);
  });
  exited.catch(() => {});
  const timeoutMs = options.timeoutMs ?? 30_000;
  const guard = (what: string, ms: number): Promise<never> =>
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${file}: ${what} timed out after ${ms} ms`)), ms).unref());
  const ready = await Promise.race([readyPromise, exited, guard('start', timeoutMs)]);
  return {
    child,
    ready,
    nextResult(ms) {
      const queued = results.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return Promise.race([new Promise<Record<string, unknown>>((resolve) => waiters.push(resolve)), exited, guard('result', ms)]);
    },
    command(value) {
      child.stdin!.write(`${JSON.stringify(value)}\n`);
    },
    stop: () => stopChild(child, 3_000),
  };
}

/** Run a fixture to completion and return the JSON it printed after `RESULT ` (the last one). */
export async function runToResult(
  file: string,
  args: string[] = [],
  options: { nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...fixtureArgs(file, options.nodeArgs), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  live.add(child);
  let last: Record<string, unknown> | undefined;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line.startsWith('RESULT ')) last = JSON.parse(line.slice(7)) as Record<string, unknown>;
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [[code]] = (await Promise.all([once(child, 'exit'), once(lines, 'close')])) as [[number | null], unknown];
  clearTimeout(timer);
  live.delete(child);
  if (code !== 0 || last === undefined) throw new Error(`${file} failed (exit ${String(code)})`);
  return last;
}
