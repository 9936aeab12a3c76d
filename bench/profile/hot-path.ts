/**
 * The per-request hot path in one process, for `node --cpu-prof`: one session over the memory
 * transport, N requests answered synchronously (plain `echo`, or MCP `tools/call echo` with
 * `--mcp`), `--inflight K` requests outstanding at a time (async handlers). Prints µs per request
 * (wall and CPU) for each of `--rounds` rounds.
 *
 *   node --cpu-prof --import tsx bench/profile/hot-path.ts --mcp --count 200000
 */
import { performance } from 'node:perf_hooks';
import { createMcpServer } from '../../src/mcp/server.js';
import { demoTools } from '../../src/demo/tools.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import { arg } from '../lib/closed-loop.js';
import { MCP_INITIALIZE, MCP_INITIALIZED, requestFrame } from '../lib/messages.js';

const mcp = process.argv.includes('--mcp');
const count = Number(arg('count', '100000'));
const rounds = Number(arg('rounds', '5'));
const asyncHandlers = process.argv.includes('--async');

const server = createMcpServer({
  name: 'bench',
  version: '1.0.0',
  tools: demoTools,
  methods: { echo: asyncHandlers ? async (params: unknown) => params : (params: unknown) => params },
  openMethods: ['echo'],
});
const { transport, peer } = createMemoryTransportPair();
server.attach(transport);
if (mcp) {
  peer.send(MCP_INITIALIZE);
  peer.send(MCP_INITIALIZED);
}
const frames = Array.from({ length: 500 }, (_, i) => requestFrame(mcp ? 'mcp' : 'jsonrpc', i + 1));
let answered = 0;
let errors = 0;
peer.onMessage((message) => {
  answered += 1;
  if ((message as { result?: unknown }).result === undefined) errors += 1;
});
for (let r = 0; r < rounds; r += 1) {
  answered = 0;
  peer.received.length = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) {
    peer.send(frames[i % 500]!);
    if (i % 500 === 499) {
      peer.received.length = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  while (answered < count) await new Promise((resolve) => setImmediate(resolve));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `round ${r + 1}: ${((wall * 1000) / count).toFixed(2)} µs/req wall, ${((cpu.user + cpu.system) / count).toFixed(2)} µs/req cpu, ${errors} errors\n`,
  );
}
await server.close();
