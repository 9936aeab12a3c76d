// In-process: N modern tools/call echo exchanges on single-exchange transports (no HTTP).
import { performance } from 'node:perf_hooks';
import { demoTools } from '../../src/demo/tools.js';
import { createMcpServer } from '../../src/mcp/server.js';
import type { Transport, TransportSink } from '../../src/transports/types.js';
import { httpBody } from '../lib/messages.js';

const server = createMcpServer({ name: 'bench', version: '1.0.0', tools: demoTools, openMethods: ['tools/call'] });
const body = httpBody('modern', 7);
let answered = 0;
class Fake implements Transport {
  readonly kind = 'fake';
  readonly singleExchange = true as const;
  outputOpen = true;
  private sink: TransportSink | undefined;
  start(sink: TransportSink): void { this.sink = sink; sink.onParsed!(JSON.parse(body), body); }
  send(_frame: string): void { answered++; queueMicrotask(() => this.sink?.onInputEnded()); }
  close(): void { this.outputOpen = false; }
}
const n = Number(process.argv[2] ?? 200000);
async function round(count: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < count; i++) {
    server.attach(new Fake());
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  return ((performance.now() - t) * 1000) / count;
}
await round(20000);
for (let k = 0; k < 3; k++) console.log('µs/exchange', (await round(n)).toFixed(2), 'answered', answered, 'sessions', server.sessions().length);
