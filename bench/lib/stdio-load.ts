import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fixtureArgs, ROOT } from './child.js';
import { LoadWindow, RING } from './load-window.js';
import { MCP_INITIALIZE, MCP_INITIALIZED, requestFrame } from './messages.js';
import { toResult, type LoadResult } from './stats.js';

/** One closed-loop JSON-lines load run against a stdio server started as a child process. */
export interface StdioLoadOptions {
  name: string;
  /** The fixture under bench/ (e.g. `servers/raw-stdio.ts`), or a full argv to run with node. */
  server: string | string[];
  shapes: Array<{ inFlight: number }>;
  warmupMs: number;
  measureMs: number;
}


/**
 * Start the server once, do the MCP handshake, then run each shape (1 connection × inFlight)
 * in turn. The same lean client drives every stdio server, so ratios compare servers.
 */
export async function runStdioLoad(options: StdioLoadOptions): Promise<LoadResult[]> {
  const argv = typeof options.server === 'string' ? fixtureArgs(options.server) : options.server;
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  const stdin = child.stdin;
  let onMessage: (message: { id?: unknown; result?: unknown; error?: unknown }) => void = () => {};
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let index: number;
    let start = 0;
    while ((index = buffer.indexOf('\n', start)) !== -1) {
      const line = buffer.slice(start, index);
      start = index + 1;
      if (line.length > 0) onMessage(JSON.parse(line) as { id?: unknown });
    }
    buffer = buffer.slice(start);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${options.name}: initialize timed out`)), 30_000);
      onMessage = (message) => {
        if (message.id !== 0) return;
        clearTimeout(timer);
        if (message.result === undefined) reject(new Error(`${options.name}: initialize failed`));
        else resolve();
      };
      stdin.write(`${MCP_INITIALIZE}\n`);
    });
    stdin.write(`${MCP_INITIALIZED}\n`);
    const results: LoadResult[] = [];
    let nextId = 1;
    for (const shape of options.shapes) {
      const sentAt = new Float64Array(RING);
      const loadWindow = new LoadWindow();
      const sendNext = (): void => {
        const id = nextId++;
        sentAt[id % RING] = performance.now();
        loadWindow.sent();
        stdin.write(`${requestFrame('mcp', id)}\n`);
      };
      onMessage = (message) => {
        const now = performance.now();
        const id = message.id;
        if (loadWindow.answered(message, typeof id === 'number' ? sentAt[id % RING] : undefined, now)) sendNext();
      };
      for (let k = 0; k < shape.inFlight; k += 1) sendNext();
      const { windowMs, cpuMs } = await loadWindow.run(options, child.pid);
      results.push(toResult(options.name, 1, shape.inFlight, loadWindow.recorder, windowMs, loadWindow.errors, cpuMs));
    }
    return results;
  } finally {
    const gone = child.exitCode === null && child.signalCode === null ? once(child, 'exit') : Promise.resolve();
    stdin.end();
    const term = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(term);
    clearTimeout(killTimer);
  }
}
