// The real CLI server as a child process: `node dist/src/cli.js serve …`, over WebSocket (reading
// `listening ws://HOST:PORT` from stderr) or over stdio. Debug statistics are on, so the server answers
// `$/stats` and prints a `debug-stats {…}` line when it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The built CLI. `npm test` builds it first; `npm run chaos` needs `npm run build`. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** Lines on stderr that mean something went unhandled or a session failed. */
export const UNHANDLED = /unhandled|uncaught|session failed|TypeError|RangeError|ReferenceError|FATAL|heap out of memory/i;

/** The figures a server prints when it exits. */
export interface ExitFigures {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The lifetime counters line (JSON), if printed. */
  counters: Record<string, unknown> | undefined;
  /** The `debug-stats {…}` line, if printed. */
  debug: { liveActors: number; writesAfterClose: number; stats: Record<string, unknown> } | undefined;
  /** stderr lines that match {@link UNHANDLED}. */
  unhandled: string[];
}

/** A running server process. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly stderr: string[];
  /** Resolves once the process has exited and its streams are read. */
  readonly exited: Promise<ExitFigures>;
  /** Ask it to stop (SIGTERM); the figures come with `exited`. */
  terminate(): void;
  /** Kill it outright (cleanup after a failure). */
  kill(): void;
}

const ENV = { ...process.env, SESSION_SUPERVISOR_DEBUG_STATS: '1' };

function track(child: ChildProcess): ServerProcess {
  const stderr: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    stderr.push(...parts);
  });
  const exited = (async (): Promise<ExitFigures> => {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    if (partial !== '') stderr.push(partial);
    let counters: ExitFigures['counters'];
    let debug: ExitFigures['debug'];
    for (const line of stderr) {
      if (line.startsWith('debug-stats ')) debug = JSON.parse(line.slice('debug-stats '.length)) as ExitFigures['debug'];
      else if (line.startsWith('{"sessions":')) counters = JSON.parse(line) as Record<string, unknown>;
    }
    return { code, signal, counters, debug, unhandled: stderr.filter((l) => UNHANDLED.test(l)) };
  })();
  return {
    child,
    stderr,
    exited,
    terminate: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Options every chaos server gets (small drain and message limits keep the run short; a small legacy
 * HTTP session cap, so the session storm reaches it).
 */
export const SERVER_ARGS = ['--log-level', 'warn', '--drain-timeout', '3000', '--max-message-bytes', '65536', '--max-sessions', '40'];

/** Start the WebSocket server on a free port; resolves with its url once it listens. */
export async function startWsServer(): Promise<ServerProcess & { url: string }> {
  const child = spawn(process.execPath, ['--expose-gc', CLI, 'serve', '--port', '0', ...SERVER_ARGS], {
    env: ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const server = track(child);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within 15 s:\n${server.stderr.join('\n')}`)), 15_000);
    const onData = (): void => {
      const line = server.stderr.find((l) => l.startsWith('listening '));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve(line.slice('listening '.length).trim());
    };
    child.stderr!.on('data', onData);
    void server.exited.then((figures) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (${figures.code ?? figures.signal}):\n${server.stderr.join('\n')}`));
    });
  });
  return Object.assign(server, { url });
}

/** Start one stdio server (one session over stdin/stdout). */
export function startStdioServer(): ServerProcess {
  const child = spawn(process.execPath, [CLI, 'serve', '--stdio', ...SERVER_ARGS], {
    env: ENV,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return track(child);
}
