import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fixtureArgs, ROOT } from './child.js';
import { processCpuMs } from './proc-cpu.js';
import { isEcho, MCP_INITIALIZE, MCP_INITIALIZED, requestFrame } from './messages.js';
import { LatencyRecorder, toResult, type LoadResult } from './stats.js';

/** One closed-loop JSON-lines load run against a stdio server started as a child process. */
export interface StdioLoadOptions {
  name: string;
  /** The fixture under bench/ (e.g. `servers/raw-stdio.ts`), or a full argv to run with node. */
  server: string | string[];
  shapes: Array<{ inFlight: number }>;
  warmupMs: number;
  measureMs: number;
}

const RING = 4096;

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
      const recorder = new LatencyRecorder();
      let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
      let outstanding = 0;
      let errors = 0;
      let checked = false;
      let resolveDrained: () => void = () => {};
      const sendNext = (): void => {
        const id = nextId++;
        sentAt[id % RING] = performance.now();
        outstanding += 1;
        stdin.write(`${requestFrame('mcp', id)}\n`);
      };
      onMessage = (message) => {
        const now = performance.now();
        outstanding -= 1;
        if (message.error !== undefined || typeof message.id !== 'number' || (!checked && !isEcho(message))) errors += 1;
        checked = true;
        if (phase === 'measure') recorder.add(now - sentAt[(message.id as number) % RING]!);
        if (phase !== 'stop') sendNext();
        else if (outstanding === 0) resolveDrained();
      };
      for (let k = 0; k < shape.inFlight; k += 1) sendNext();
      await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
      phase = 'measure';
      const cpu0 = processCpuMs(child.pid);
      const start = performance.now();
      await new Promise((resolve) => setTimeout(resolve, options.measureMs));
      phase = 'stop';
      const windowMs = performance.now() - start;
      const cpu1 = processCpuMs(child.pid);
      await Promise.race([
        new Promise<void>((resolve) => {
          resolveDrained = resolve;
          if (outstanding === 0) resolve();
        }),
        new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
      ]);
      const cpuMs = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
      results.push(toResult(options.name, 1, shape.inFlight, recorder, windowMs, errors, cpuMs));
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
