import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** A child process speaking newline-delimited JSON on stdout and reporting JSON lines on stderr. */
export interface LineChild {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** JSON messages read from stdout. */
  readonly out: any[];
  /** JSON lines read from stderr (other lines are kept in `stderr`). */
  readonly events: any[];
  stderr: string;
  /** Resolves once the process exited and its stdout and stderr were read to the end ('close'). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(message: unknown): void;
  /** Resolve once a stdout message or stderr event matches (rejects when the process exits first). */
  waitFor(where: 'out' | 'events', match: (item: any) => boolean): Promise<any>;
  kill(): void;
}

const live = new Set<LineChild>();

/** Spawn `node [args]` with piped stdio. Every child is tracked so `killAll()` can end it. */
export function spawnLineChild(args: string[], env: Record<string, string> = {}): LineChild {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: any[] = [];
  const events: any[] = [];
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const lines = (stream: Readable, onLine: (line: string) => void): void => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        onLine(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
      }
      wake();
    });
    stream.on('error', () => {});
  };
  const handle: LineChild = {
    child,
    out,
    events,
    stderr: '',
    exited: new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))),
    send(message) {
      child.stdin.write(`${JSON.stringify(message)}\n`);
    },
    waitFor(where, match) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = (where === 'out' ? out : events).find(match);
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (!live.has(handle)) {
            waiters.delete(check);
            reject(new Error(`process exited before a match; stderr:\n${handle.stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  lines(child.stdout, (line) => {
    try {
      out.push(JSON.parse(line));
    } catch {
      // not JSON: ignored
    }
  });
  lines(child.stderr, (line) => {
    handle.stderr += `${line}\n`;
    try {
      events.push(JSON.parse(line));
    } catch {
      // a plain log line
    }
  });
  child.stdin.on('error', () => {});
  // 'close', not 'exit': output still in the pipes when the process exits is read first.
  child.once('close', () => {
    live.delete(handle);
    setImmediate(wake);
  });
  live.add(handle);
  return handle;
}

/** Kill every child still running (for afterEach). */
export function killAll(): void {
  for (const handle of [...live]) handle.kill();
}
