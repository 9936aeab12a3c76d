import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startFixture } from '../lib/child.js';
import { postOnce } from '../lib/http-load.js';
import { httpBody, httpHeaders, isEcho } from '../lib/messages.js';
import { round } from '../lib/stats.js';

/** What `http-heap` reports. */
export interface HttpHeapResult {
  exchanges: number;
  /** Server heap after GC at the end vs after the warm-up exchanges, in % (figure: ≤ 5 %). */
  heapGrowthPct: number;
  baselineHeapBytes: number;
  finalHeapBytes: number;
  /** Exchanges that did not get their 200 echo (must stay 0). */
  failures: number;
  /** Sessions the server still held at the end (must be 0: every modern exchange is a short-lived session). */
  sessionsLeft: number;
  exchangesPerSec: number;
}

/** `count` modern `tools/call echo` exchanges over `connections` keep-alive connections; the failures. */
export async function runExchanges(url: string, count: number, connections: number): Promise<number> {
  const target = new URL(url);
  const headers = httpHeaders('modern');
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const id = next;
      try {
        const answer = await postOnce(agent, target, headers, httpBody('modern', id));
        if (answer.status !== 200 || answer.message.id !== id || !isEcho(answer.message)) failures += 1;
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, () => worker()));
  agent.destroy();
  return failures;
}

/**
 * Heap flatness over Streamable HTTP: `exchanges` modern (2026-07-28) `tools/call echo` POSTs, 16
 * keep-alive connections at a time, against our HTTP server running with `--expose-gc` in its own
 * process. Heap after GC is taken after a warm-up of `warmup` exchanges (default `exchanges / 10`, at least 5 000)
 * (measured here: the heap still settles over the first few thousand, then stays flat) and again at the end, once every exchange's session has closed.
 */
export async function runHttpHeap(exchanges: number, warmup = Math.max(5_000, Math.floor(exchanges / 10))): Promise<HttpHeapResult> {
  const fixture = await startFixture('servers/supervised-http.ts', [], { nodeArgs: ['--expose-gc'] });
  try {
    const url = fixture.ready.url as string;
    let failures = await runExchanges(url, warmup, 16);
    fixture.command({ cmd: 'wait-sessions', count: 0 });
    await fixture.nextResult(70_000);
    fixture.command({ cmd: 'memory' });
    const base = (await fixture.nextResult(30_000)) as { heapUsed: number };
    const start = performance.now();
    failures += await runExchanges(url, exchanges, 16);
    const elapsed = performance.now() - start;
    fixture.command({ cmd: 'wait-sessions', count: 0 });
    const left = (await fixture.nextResult(70_000)) as { sessions: number };
    fixture.command({ cmd: 'memory' });
    const end = (await fixture.nextResult(30_000)) as { heapUsed: number };
    return {
      exchanges,
      heapGrowthPct: round(((end.heapUsed - base.heapUsed) / base.heapUsed) * 100, 2),
      baselineHeapBytes: base.heapUsed,
      finalHeapBytes: end.heapUsed,
      failures,
      sessionsLeft: left.sessions,
      exchangesPerSec: Math.round((exchanges / elapsed) * 1000),
    };
  } finally {
    await fixture.stop();
  }
}
