import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** The demo server (`node dist/src/cli.js serve …`) as a child process, with its stderr lines. */
export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stderrLines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stderr line that matches. */
  line(match: RegExp): Promise<string>;
  /** The last stderr line, parsed (the lifetime counters once the server stopped). */
  lastJson(): any;
  kill(): void;
}

const live = new Set<ServeProcess>();

/** Spawn the built CLI with these arguments. */
export function spawnServe(args: string[]): ServeProcess {
  const child = spawn(process.execPath, ['dist/src/cli.js', 'serve', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderrLines: string[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      stderrLines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
    for (const waiter of [...waiters]) waiter();
  });
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(handle);
      setImmediate(() => {
        for (const waiter of [...waiters]) waiter();
      });
      resolve({ code, signal });
    }),
  );
  const handle: ServeProcess = {
    child,
    stderrLines,
    exited,
    line(match) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = stderrLines.find((l) => match.test(l));
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`server exited before ${String(match)}; stderr:\n${stderrLines.join('\n')}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    lastJson() {
      const last = stderrLines.at(-1);
      if (last === undefined) throw new Error('no stderr line');
      return JSON.parse(last);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  live.add(handle);
  return handle;
}

/** Kill every server still running (for afterEach). */
export function killServes(): void {
  for (const handle of [...live]) handle.kill();
}
