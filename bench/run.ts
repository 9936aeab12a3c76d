/**
 * `npm run bench` — every scenario in turn on 127.0.0.1, then a table (or, with `--json`, one JSON
 * document; `--markdown`, Markdown tables; `--from FILE` renders a saved `--json` report instead of
 * running). `--quick` keeps the whole run under a minute on 2 cores. `--only a,b` runs the named
 * scenarios only; `--rounds N` repeats the throughput scenarios and keeps the median per row.
 * Ratios are computed within this run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fixtureArgs, ROOT, runToResult, startFixture } from './lib/child.js';
import { machineInfo } from './lib/machine.js';
import { runHttpLoad } from './lib/http-load.js';
import type { HttpLoadKind } from './lib/messages.js';
import { runStdioLoad } from './lib/stdio-load.js';
import type { LoadResult } from './lib/stats.js';
import { runWsLoad } from './lib/ws-load.js';
import { evaluate, renderMarkdown, renderTable, type Report } from './lib/report.js';
import { runChurn } from './scenarios/churn.js';
import { runClusterHttp } from './scenarios/cluster-http.js';
import { runHttpAbort } from './scenarios/http-abort.js';
import { runHttpHeap } from './scenarios/http-heap.js';
import { runHttpPaired } from './scenarios/http-paired.js';
import { runIdleSessions } from './scenarios/idle-sessions.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const markdown = argv.includes('--markdown');
const valueOf = (flag: string): string | undefined => {
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
};
const only = valueOf('--only')?.split(',');
const rounds = Number(valueOf('--rounds') ?? '1');
const wanted = (name: string): boolean => only === undefined || only.includes(name);

const warmupMs = quick ? 200 : 1_000;
const measureMs = quick ? 800 : 4_000;
const SHAPES = [
  { connections: 1, inFlight: 1 },
  { connections: 1, inFlight: 32 },
  { connections: 100, inFlight: 32 },
];
const STDIO_SHAPES = [{ inFlight: 1 }, { inFlight: 32 }];
/** HTTP/1.1 keep-alive connections, one request in flight on each. */
const HTTP_CONNECTIONS = [1, 100];

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function wsScenario(name: string, file: string, args: string[], kind: 'jsonrpc' | 'mcp'): Promise<LoadResult[]> {
  const fixture = await startFixture(file, args);
  try {
    const url = `ws://127.0.0.1:${fixture.ready.port as number}`;
    const results: LoadResult[] = [];
    for (const shape of SHAPES) {
      results.push(await runWsLoad({ name, url, kind, ...shape, warmupMs, measureMs, ...(fixture.child.pid === undefined ? {} : { serverPid: fixture.child.pid }) }));
    }
    return results;
  } finally {
    await fixture.stop();
  }
}

async function httpScenario(name: string, file: string, kind: HttpLoadKind): Promise<LoadResult[]> {
  const fixture = await startFixture(file);
  try {
    const url = `http://127.0.0.1:${fixture.ready.port as number}/mcp`;
    const results: LoadResult[] = [];
    for (const connections of HTTP_CONNECTIONS) {
      results.push(await runHttpLoad({ name, url, kind, connections, warmupMs, measureMs, ...(fixture.child.pid === undefined ? {} : { serverPid: fixture.child.pid }) }));
    }
    return results;
  } finally {
    await fixture.stop();
  }
}

async function inProcess(file: string, extraArgs: string[] = []): Promise<LoadResult[]> {
  const shapes = SHAPES.map((s) => `${s.connections}x${s.inFlight}`).join(',');
  const results: LoadResult[] = [];
  const child = spawn(process.execPath, [...fixtureArgs(file), ...extraArgs, '--shapes', shapes, '--warmup', String(warmupMs), '--measure', String(measureMs)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice(7)) as LoadResult);
  }
  clearTimeout(timer);
  if (results.length !== SHAPES.length) throw new Error(`${file}: got ${results.length} of ${SHAPES.length} results`);
  return results;
}

const throughput: Array<[string, () => Promise<LoadResult[]>]> = [
  ['raw-ws', () => wsScenario('raw-ws', 'servers/raw-ws.ts', [], 'jsonrpc')],
  ['supervised-ws', () => wsScenario('supervised-ws', 'servers/supervised.ts', ['--ws'], 'jsonrpc')],
  ['supervised-ws-mcp', () => wsScenario('supervised-ws-mcp', 'servers/supervised.ts', ['--ws'], 'mcp')],
  // Tracing off (no provider registered) must cost nothing measurable next to supervised-ws-mcp; sdk: every span recorded.
  ['supervised-ws-mcp-tracing-off', () => wsScenario('supervised-ws-mcp-tracing-off', 'servers/supervised.ts', ['--ws', '--tracing', 'noop'], 'mcp')],
  ['supervised-ws-mcp-tracing-sdk', () => wsScenario('supervised-ws-mcp-tracing-sdk', 'servers/supervised.ts', ['--ws', '--tracing', 'sdk'], 'mcp')],
  ['raw-stdio', () => runStdioLoad({ name: 'raw-stdio', server: 'servers/raw-stdio.ts', shapes: STDIO_SHAPES, warmupMs, measureMs })],
  ['supervised-stdio', () => runStdioLoad({ name: 'supervised-stdio', server: ['--import', 'tsx', 'bench/servers/supervised.ts', '--stdio'], shapes: STDIO_SHAPES, warmupMs, measureMs })],
  ['mcp-sdk-stdio', () => runStdioLoad({ name: 'mcp-sdk-stdio', server: 'servers/mcp-sdk-stdio.ts', shapes: STDIO_SHAPES, warmupMs, measureMs })],
  ['raw-http', () => httpScenario('raw-http', 'servers/raw-http.ts', 'modern')],
  ['supervised-http', () => httpScenario('supervised-http', 'servers/supervised-http.ts', 'modern')],
  ['supervised-http-sse', () => httpScenario('supervised-http-sse', 'servers/supervised-http.ts', 'modern-sse')],
  ['mcp-sdk-v2-http', () => httpScenario('mcp-sdk-v2-http', 'servers/mcp-sdk-v2-http.ts', 'modern')],
  ['mcp-sdk-v1-http', () => httpScenario('mcp-sdk-v1-http', 'servers/mcp-sdk-v1-http.ts', 'stateless')],
  // The real CLI with --workers 1 and --workers 2 (node:cluster), modern tools/call echo over HTTP.
  ['cluster-http', () => runClusterHttp({ warmupMs, measureMs })],
  ['mcp-sdk-memory', () => inProcess('scenarios/mcp-sdk-memory.ts')],
  ['vscode-jsonrpc', () => inProcess('scenarios/vscode-jsonrpc.ts')],
  // Tracing's cost in one process (no sockets): not traced, traced with no provider, traced into the SDK.
  ['tracing-memory-none', () => inProcess('scenarios/tracing-memory.ts', ['--tracing', 'none'])],
  ['tracing-memory-noop', () => inProcess('scenarios/tracing-memory.ts', ['--tracing', 'noop'])],
  ['tracing-memory-sdk', () => inProcess('scenarios/tracing-memory.ts', ['--tracing', 'sdk'])],
];

const median = (values: LoadResult[]): LoadResult => {
  const sorted = [...values].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function runAll(): Promise<Report> {
  const report: Report = { machine: machineInfo(), results: [] };
  const started = performance.now();
  const perRound: LoadResult[][] = [];
  for (let r = 0; r < Math.max(1, rounds); r += 1) {
    const rows: LoadResult[] = [];
    for (const [name, run] of throughput) {
      if (!wanted(name)) continue;
      log(`bench: ${name}${rounds > 1 ? ` (round ${r + 1}/${rounds})` : ''}`);
      rows.push(...(await run()));
    }
    perRound.push(rows);
  }
  for (let i = 0; i < (perRound[0]?.length ?? 0); i += 1) {
    report.results.push(median(perRound.map((rows) => rows[i]!)));
  }
  // The supervised-http / raw-http figure: both servers measured in interleaved windows.
  if (wanted('http-paired')) {
    report.httpPaired = await runHttpPaired(
      {
        baseline: { name: 'raw-http', file: 'servers/raw-http.ts' },
        candidate: { name: 'supervised-http', file: 'servers/supervised-http.ts' },
        kind: 'modern',
        connections: 100,
        pairs: quick ? 2 : 11,
        initialWarmupMs: quick ? 500 : 2_000,
        warmupMs: quick ? 200 : 300,
        measureMs: quick ? 600 : 1_000,
      },
      log,
    );
  }
  if (wanted('inflight-10k')) {
    log('bench: inflight-10k');
    const result = await runToResult('scenarios/inflight-10k.ts', ['--rounds', quick ? '3' : '7'], { nodeArgs: ['--expose-gc'] });
    report.inflight10k = result as NonNullable<Report['inflight10k']>;
  }
  if (wanted('idle-sessions')) {
    log('bench: idle-sessions');
    report.idleSessions = await runIdleSessions(10_000);
  }
  if (wanted('churn')) {
    log('bench: churn');
    report.churn = await runChurn(quick ? 5_000 : 100_000);
  }
  // The floor first, right before ours, so both run under the same load: plain node:http, same client.
  if (wanted('raw-http-abort-10k') || wanted('http-abort-10k')) {
    log('bench: raw-http-abort-10k');
    report.httpAbortRaw = await runHttpAbort(10_000, [], 'servers/raw-http.ts');
  }
  if (wanted('http-abort-10k')) {
    log('bench: http-abort-10k');
    report.httpAbort = await runHttpAbort(10_000);
  }
  if (wanted('http-heap')) {
    log('bench: http-heap');
    report.httpHeap = await runHttpHeap(quick ? 10_000 : 100_000);
  }
  if (wanted('tasks')) {
    log('bench: tasks');
    const args = quick ? ['--round-trips', '400', '--live', '2000'] : [];
    report.tasks = (await runToResult('scenarios/tasks.ts', args, { nodeArgs: ['--expose-gc'], timeoutMs: 300_000 })) as unknown as NonNullable<Report['tasks']>;
  }
  report.figures = evaluate(report);
  report.durationMs = Math.round(performance.now() - started);
  report.mode = quick ? 'quick' : 'full';
  report.machine.loadAverageAtEnd = machineInfo().loadAverage;
  return report;
}

const from = valueOf('--from');
const report: Report = from === undefined ? await runAll() : (JSON.parse(readFileSync(from, 'utf8')) as Report);
if (from !== undefined) report.figures = evaluate(report);
if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else if (markdown) process.stdout.write(renderMarkdown(report));
else process.stdout.write(renderTable(report));
