import WebSocket from 'ws';
import { startFixture } from '../lib/child.js';
import { requestFrame } from '../lib/messages.js';
import { round } from '../lib/stats.js';

/** What `churn` reports. */
export interface ChurnResult {
  cycles: number;
  /** Server heap after GC at the end vs after the warm-up cycles, in % (figure: ≤ 5 %). */
  heapGrowthPct: number;
  baselineHeapBytes: number;
  finalHeapBytes: number;
  /** Cycles that did not get their echo (must stay 0). */
  failures: number;
  cyclesPerSec: number;
}

function cycle(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let ok = false;
    const timer = setTimeout(() => socket.terminate(), 10_000);
    socket.on('error', () => {});
    socket.once('open', () => socket.send(requestFrame('jsonrpc', 1)));
    socket.once('message', (data) => {
      ok = String(data).includes('"result"');
      socket.close(1000);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(ok);
    });
  });
}

async function run(url: string, cycles: number, concurrency: number): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < cycles) {
      next += 1;
      if (!(await cycle(url))) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return failures;
}

/**
 * `cycles` × (connect → one `echo` request → disconnect) against our WebSocket server running with
 * `--expose-gc` in its own process; 32 cycles at a time. Heap after GC is taken after a warm-up of
 * `cycles / 10` (at least 1 000) cycles and again at the end, once every session has closed.
 */
export async function runChurn(cycles: number): Promise<ChurnResult> {
  const fixture = await startFixture('servers/supervised.ts', ['--ws'], { nodeArgs: ['--expose-gc'] });
  try {
    const url = `ws://127.0.0.1:${fixture.ready.port as number}`;
    const warmup = Math.max(1_000, Math.floor(cycles / 10));
    let failures = await run(url, warmup, 32);
    fixture.command({ cmd: 'wait-sessions', count: 0 });
    await fixture.nextResult(70_000);
    fixture.command({ cmd: 'memory' });
    const base = (await fixture.nextResult(30_000)) as { heapUsed: number };
    const start = performance.now();
    failures += await run(url, cycles, 32);
    const elapsed = performance.now() - start;
    fixture.command({ cmd: 'wait-sessions', count: 0 });
    const left = (await fixture.nextResult(70_000)) as { sessions: number };
    if (left.sessions !== 0) throw new Error(`churn: ${left.sessions} sessions still open after the run`);
    fixture.command({ cmd: 'memory' });
    const end = (await fixture.nextResult(30_000)) as { heapUsed: number };
    return {
      cycles,
      heapGrowthPct: round(((end.heapUsed - base.heapUsed) / base.heapUsed) * 100, 2),
      baselineHeapBytes: base.heapUsed,
      finalHeapBytes: end.heapUsed,
      failures,
      cyclesPerSec: Math.round((cycles / elapsed) * 1000),
    };
  } finally {
    await fixture.stop();
  }
}
