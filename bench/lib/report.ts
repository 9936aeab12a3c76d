import type { ChurnResult } from '../scenarios/churn.js';
import type { HttpAbortResult } from '../scenarios/http-abort.js';
import type { TasksBenchResult } from '../scenarios/tasks.js';
import { tasksLines } from './tasks-report.js';
import type { HttpHeapResult } from '../scenarios/http-heap.js';
import type { HttpPairedResult } from '../scenarios/http-paired.js';
import type { IdleSessionsResult } from '../scenarios/idle-sessions.js';
import { round, type LoadResult } from './stats.js';

/** The JSON document `npm run bench -- --json` prints. */
export interface Report {
  machine: Record<string, unknown>;
  mode?: 'quick' | 'full';
  durationMs?: number;
  results: LoadResult[];
  inflight10k?: {
    count: number;
    spawnMs: number;
    cancelMs: number;
    spawnCpuMs: number;
    cancelCpuMs: number;
    /** Node alone: COUNT AbortControllers with a listener and a pending promise each, created / aborted. */
    floorSpawnMs: number;
    floorCancelMs: number;
    coldSpawnMs: number;
    coldCancelMs: number;
    /** Signal handlers: until the cancel has reached every handler (the synchronous close). */
    deliverMs: number;
    /** Handlers that listen with `ctx.onCancel` (no AbortController). */
    onCancelSpawnMs: number;
    onCancelCancelMs: number;
    onCancelSpawnCpuMs: number;
    onCancelCancelCpuMs: number;
    /** Runtime only: handlers that never listen, so no AbortController exists. */
    runtimeSpawnMs: number;
    runtimeCancelMs: number;
    runtimeSpawnCpuMs: number;
    runtimeCancelCpuMs: number;
  };
  idleSessions?: IdleSessionsResult;
  churn?: ChurnResult;
  /** http-abort-10k: open SSE tool calls whose clients all drop. */
  httpAbort?: HttpAbortResult;
  /** raw-http-abort-10k: the same client against plain node:http (bench/servers/raw-http.ts), the floor. */
  httpAbortRaw?: HttpAbortResult;
  /** Heap after GC across many modern HTTP exchanges. */
  httpHeap?: HttpHeapResult;
  /** supervised-http against raw-http in interleaved windows (the ratio figure's measurement). */
  httpPaired?: HttpPairedResult;
  /** Durable tasks: create → complete round trips per store, memory per live task. */
  tasks?: TasksBenchResult;
  figures?: Figure[];
}

/** One figure of the benchmark issue, checked against this run. */
export interface Figure {
  figure: string;
  target: string;
  value: number | null;
  met: boolean | null;
  /** The same comparison made on server CPU per request (robust when other work shares the cores). */
  cpuValue?: number | null;
}

function row(report: Report, name: string, connections: number, inFlight: number): LoadResult | undefined {
  return report.results.find((r) => r.name === name && r.connections === connections && r.inFlight === inFlight);
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : round(a / b, 3);
}

/** Check every figure of the issue against the report (ratios within the same run). */
export function evaluate(report: Report): Figure[] {
  const figures: Figure[] = [];
  const atLeast = (figure: string, target: number, value: number | null, cpuValue?: number | null): void => {
    figures.push({ figure, target: `>= ${target}`, value, met: value === null ? null : value >= target, ...(cpuValue === undefined ? {} : { cpuValue }) });
  };
  const atMost = (figure: string, target: number, value: number | null, unit: string, cpuValue?: number): void => {
    figures.push({ figure, target: `<= ${target} ${unit}`, value, met: value === null ? null : value <= target, ...(cpuValue === undefined ? {} : { cpuValue }) });
  };
  const rawWs = row(report, 'raw-ws', 100, 32);
  const supWs = row(report, 'supervised-ws', 100, 32);
  atLeast('supervised-ws / raw-ws req/s at 100x32', 0.8, ratio(supWs?.opsPerSec, rawWs?.opsPerSec), ratio(rawWs?.cpuUsPerOp, supWs?.cpuUsPerOp));
  const rawWs1 = row(report, 'raw-ws', 1, 1);
  const supWs1 = row(report, 'supervised-ws', 1, 1);
  atMost(
    'supervised-ws added p50 latency at 1x1',
    30,
    rawWs1 === undefined || supWs1 === undefined ? null : round((supWs1.p50Ms - rawWs1.p50Ms) * 1000, 1),
    'µs',
  );
  const rawStdio = row(report, 'raw-stdio', 1, 32);
  const supStdio = row(report, 'supervised-stdio', 1, 32);
  const sdkStdio = row(report, 'mcp-sdk-stdio', 1, 32);
  atLeast('supervised-stdio / raw-stdio req/s at 1x32', 0.8, ratio(supStdio?.opsPerSec, rawStdio?.opsPerSec), ratio(rawStdio?.cpuUsPerOp, supStdio?.cpuUsPerOp));
  atLeast('supervised-stdio / mcp-sdk-stdio req/s at 1x32', 2, ratio(supStdio?.opsPerSec, sdkStdio?.opsPerSec), ratio(sdkStdio?.cpuUsPerOp, supStdio?.cpuUsPerOp));
  const inflight = report.inflight10k;
  atMost('inflight-10k spawn, AbortSignal listeners', 100, inflight?.spawnMs ?? null, 'ms', inflight?.spawnCpuMs);
  atMost('inflight-10k cancel-all, AbortSignal listeners', 50, inflight?.cancelMs ?? null, 'ms', inflight?.cancelCpuMs);
  atMost('inflight-10k spawn, onCancel listeners', 100, inflight?.onCancelSpawnMs ?? null, 'ms', inflight?.onCancelSpawnCpuMs);
  atMost('inflight-10k cancel-all, onCancel listeners', 50, inflight?.onCancelCancelMs ?? null, 'ms', inflight?.onCancelCancelCpuMs);
  atMost('inflight-10k spawn, runtime only', 100, inflight?.runtimeSpawnMs ?? null, 'ms', inflight?.runtimeSpawnCpuMs);
  atMost('inflight-10k cancel-all, runtime only', 50, inflight?.runtimeCancelMs ?? null, 'ms', inflight?.runtimeCancelCpuMs);
  const idle = report.idleSessions;
  atMost('idle-sessions heap per session above raw ws', 8192, idle?.aboveRawBytes ?? null, 'B');
  atMost('idle-sessions RSS per session above raw ws', 8192, idle === undefined ? null : idle.rssBytesPerSession - idle.rawWsRssBytesPerSession, 'B');
  atMost('idle-sessions close-all 10k', 1000, report.idleSessions?.closeAllMs ?? null, 'ms');
  atMost('churn heap growth', 5, report.churn?.heapGrowthPct ?? null, '%');
  const rawHttp = row(report, 'raw-http', 100, 1);
  const supHttp = row(report, 'supervised-http', 100, 1);
  // Measured in interleaved windows when the run has them (http-paired: both servers on the same
  // stretch of a shared machine), else from the two rows.
  const paired = report.httpPaired;
  if (paired !== undefined) {
    figures.push({
      figure: 'supervised-http / raw-http req/s at 100 conns',
      target: '>= 0.8',
      value: paired.ratio,
      met: paired.errors === 0 && paired.ratio >= 0.8,
      cpuValue: paired.cpuRatio,
    });
  } else {
    atLeast('supervised-http / raw-http req/s at 100 conns', 0.8, ratio(supHttp?.opsPerSec, rawHttp?.opsPerSec), ratio(rawHttp?.cpuUsPerOp, supHttp?.cpuUsPerOp));
  }
  const sdks = ['mcp-sdk-v2-http', 'mcp-sdk-v1-http'].map((name) => row(report, name, 100, 1)).filter((r) => r !== undefined);
  const fasterSdk = sdks.length === 0 ? undefined : sdks.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
  const leanestSdk = sdks.filter((r) => r.cpuUsPerOp !== undefined).sort((a, b) => a.cpuUsPerOp! - b.cpuUsPerOp!)[0];
  atLeast('supervised-http / faster SDK HTTP req/s at 100 conns', 5, ratio(supHttp?.opsPerSec, fasterSdk?.opsPerSec), ratio(leanestSdk?.cpuUsPerOp, supHttp?.cpuUsPerOp));
  const cluster1 = row(report, 'cluster-http-workers1', 100, 1);
  const cluster2 = row(report, 'cluster-http-workers2', 100, 1);
  atLeast('cluster-http --workers 2 / --workers 1 req/s at 100 conns', 1.3, ratio(cluster2?.opsPerSec, cluster1?.opsPerSec));
  // Server CPU per request (primary + workers) with 2 workers over 1: within 10 %.
  atMost('cluster-http server CPU/req, --workers 2 over --workers 1', 1.1, ratio(cluster2?.cpuUsPerOp, cluster1?.cpuUsPerOp), '×');
  const abort = report.httpAbort;
  atMost('http-abort-10k every handler cancelled after the aborts', 1000, abort?.cancelAllMs ?? null, 'ms');
  atMost('http-abort-10k writes after close', 0, abort === undefined ? null : abort.writesAfterClose + abort.lateWritesSent, '');
  // Informational, never pass/fail: how far ours is from what node:http itself costs in the same run.
  const rawAbort = report.httpAbortRaw;
  figures.push({
    figure: 'http-abort-10k cancel-all over raw node:http (same run)',
    target: 'report',
    value: ratio(abort?.cancelAllMs, rawAbort?.cancelAllMs),
    met: null,
    cpuValue: ratio(abort?.serverCpuUsPerAbort ?? undefined, rawAbort?.serverCpuUsPerAbort ?? undefined),
  });
  atMost('http heap growth after modern exchanges', 5, report.httpHeap?.heapGrowthPct ?? null, '%');
  return figures;
}

const pad = (text: string, width: number): string => (text.length >= width ? text : text + ' '.repeat(width - text.length));
const lpad = (text: string, width: number): string => (text.length >= width ? text : ' '.repeat(width - text.length) + text);

/** The http-paired, raw-http-abort-10k, http-abort-10k and http-heap lines (one each, when present). */
function httpLines(report: Report): string[] {
  const lines: string[] = [];
  for (const [prefix, a] of [
    ['raw-http-abort', report.httpAbortRaw],
    ['http-abort', report.httpAbort],
  ] as const) {
    if (a === undefined) continue;
    lines.push(
      `${prefix}-${a.count}: opened in ${a.openMs} ms; dropped in ${a.abortMs} ms; every handler cancelled ${a.cancelAllMs} ms after the first drop (${a.afterLastAbortMs} ms after the last); cancelled ${a.cancelled} (transport-closed ${a.cancelledTransportClosed}); writes after close ${a.writesAfterClose}; late writes blocked ${a.lateWritesBlocked}, sent ${a.lateWritesSent}; in flight after ${a.inFlightAfter}; server CPU ${String(a.serverCpuUsPerAbort ?? null)} µs per abort`,
    );
  }
  const p = report.httpPaired;
  if (p !== undefined) {
    const windows = p.pairs.map((pair) => `${pair.ratio} (${pair.baseline.opsPerSec}/${pair.candidate.opsPerSec})`).join(', ');
    lines.push(
      `http-paired ${p.candidate} / ${p.baseline} at ${p.connections} conns, ${p.pairs.length} pairs of ${p.measureMs} ms windows${p.pinned ? ', pinned' : ''}: median ${p.ratio} (CPU ${String(p.cpuRatio)}), errors ${p.errors}; per pair ${windows}`,
    );
  }
  const h = report.httpHeap;
  if (h !== undefined) {
    lines.push(
      `http-heap (${h.exchanges} modern exchanges, ${h.exchangesPerSec}/s): heap growth ${h.heapGrowthPct} % (${h.baselineHeapBytes} → ${h.finalHeapBytes} B), failures ${h.failures}, sessions left ${h.sessionsLeft}`,
    );
  }
  return lines;
}

/** The human-readable table. */
export function renderTable(report: Report): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`session-supervisor bench (${report.mode ?? 'full'}) — node ${String(m.node)}, ${String(m.cores)} × ${String(m.cpu)}, load ${JSON.stringify(m.loadAverage)}`);
  lines.push('');
  lines.push(`${pad('scenario', 20)}${lpad('conn×inflight', 14)}${lpad('req/s', 10)}${lpad('p50 ms', 10)}${lpad('p99 ms', 10)}${lpad('cpu µs/req', 12)}${lpad('errors', 8)}`);
  for (const r of report.results) {
    lines.push(
      `${pad(r.name, 20)}${lpad(`${r.connections}×${r.inFlight}`, 14)}${lpad(String(r.opsPerSec), 10)}${lpad(r.p50Ms.toFixed(3), 10)}${lpad(r.p99Ms.toFixed(3), 10)}${lpad(r.cpuUsPerOp === undefined ? '-' : r.cpuUsPerOp.toFixed(1), 12)}${lpad(String(r.errors), 8)}`,
    );
  }
  if (report.inflight10k !== undefined) {
    const i = report.inflight10k;
    lines.push(
      '',
      `inflight-10k, AbortSignal listeners: spawn ${i.spawnMs} ms (cpu ${i.spawnCpuMs}), cancel-all ${i.cancelMs} ms (cpu ${i.cancelCpuMs}; delivered to all in ${i.deliverMs} ms); cold: ${i.coldSpawnMs} / ${i.coldCancelMs} ms; Node's AbortController floor: ${i.floorSpawnMs} / ${i.floorCancelMs} ms`,
      `inflight-10k, onCancel listeners: spawn ${i.onCancelSpawnMs} ms (cpu ${i.onCancelSpawnCpuMs}), cancel-all ${i.onCancelCancelMs} ms (cpu ${i.onCancelCancelCpuMs})`,
      `inflight-10k, runtime only: spawn ${i.runtimeSpawnMs} ms (cpu ${i.runtimeSpawnCpuMs}), cancel-all ${i.runtimeCancelMs} ms (cpu ${i.runtimeCancelCpuMs})`,
    );
  }
  if (report.idleSessions !== undefined) {
    const s = report.idleSessions;
    lines.push(
      `idle-sessions (${s.sessions}): ${s.bytesPerSession} B heap/session vs raw ws ${s.rawWsBytesPerSession} B (+${s.aboveRawBytes} B); RSS ${s.rssBytesPerSession} vs ${s.rawWsRssBytesPerSession} B; close-all ${s.closeAllMs} ms (raw ws ${s.rawWsCloseAllMs} ms)`,
    );
  }
  if (report.churn !== undefined) {
    const c = report.churn;
    lines.push(`churn (${c.cycles} cycles, ${c.cyclesPerSec}/s): heap growth ${c.heapGrowthPct} % (${c.baselineHeapBytes} → ${c.finalHeapBytes} B), failures ${c.failures}`);
  }
  lines.push(...httpLines(report), ...tasksLines(report.tasks));
  if (report.figures !== undefined) {
    lines.push('', `${pad('figure', 52)}${lpad('target', 12)}${lpad('value', 10)}${lpad('cpu', 8)}  met`);
    for (const f of report.figures) {
      lines.push(
        `${pad(f.figure, 52)}${lpad(f.target, 12)}${lpad(f.value === null ? '-' : String(f.value), 10)}${lpad(f.cpuValue === undefined || f.cpuValue === null ? '' : String(f.cpuValue), 8)}  ${f.met === null ? 'n/a' : f.met ? 'yes' : 'NO'}`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** The report as Markdown tables (for bench/RESULTS.md). */
export function renderMarkdown(report: Report): string {
  const m = report.machine;
  const versions = m.versions as Record<string, string> | undefined;
  const lines: string[] = [];
  lines.push(`Run: ${String(m.date)} (${report.mode ?? 'full'} mode, ${Math.round((report.durationMs ?? 0) / 1000)} s).`);
  lines.push('');
  lines.push(`Machine: ${String(m.cores)} × ${String(m.cpu)}, ${String(m.memoryGiB)} GiB, ${String(m.platform)}, Node ${String(m.node)}; load average at the start ${JSON.stringify(m.loadAverage)}.`);
  if (versions !== undefined) {
    lines.push('');
    lines.push(`Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  }
  lines.push('', '| scenario | conn × in flight | req/s | p50 ms | p99 ms | server CPU µs/req | errors |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const r of report.results) {
    lines.push(`| ${r.name} | ${r.connections} × ${r.inFlight} | ${r.opsPerSec} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.cpuUsPerOp === undefined ? '–' : r.cpuUsPerOp.toFixed(1)} | ${r.errors} |`);
  }
  if (report.inflight10k !== undefined) {
    const i = report.inflight10k;
    lines.push(
      '',
      '| inflight-10k | spawn ms | cancel-all ms |',
      '|---|---:|---:|',
      `| AbortSignal listeners, wall (median of warm rounds) | ${i.spawnMs} | ${i.cancelMs} (delivered to all: ${i.deliverMs}) |`,
      `| AbortSignal listeners ÷ Node alone (steady when the machine is not) | ${ratio(i.spawnMs, i.floorSpawnMs) ?? '–'} | ${ratio(i.cancelMs, i.floorCancelMs) ?? '–'} |`,
      `| AbortSignal listeners, CPU | ${i.spawnCpuMs} | ${i.cancelCpuMs} |`,
      `| AbortSignal listeners, first (cold) round | ${i.coldSpawnMs} | ${i.coldCancelMs} |`,
      `| Node alone: 10k AbortControllers + listener + promise | ${i.floorSpawnMs} | ${i.floorCancelMs} |`,
      `| \`ctx.onCancel\` listeners, wall | ${i.onCancelSpawnMs} | ${i.onCancelCancelMs} |`,
      `| \`ctx.onCancel\` listeners, CPU | ${i.onCancelSpawnCpuMs} | ${i.onCancelCancelCpuMs} |`,
      `| runtime only (handlers that never listen), wall | ${i.runtimeSpawnMs} | ${i.runtimeCancelMs} |`,
      `| runtime only, CPU | ${i.runtimeSpawnCpuMs} | ${i.runtimeCancelCpuMs} |`,
    );
  }
  if (report.idleSessions !== undefined) {
    const s = report.idleSessions;
    lines.push(
      '',
      `| idle-sessions (${s.sessions}) | heap B/session | RSS B/session | close-all ms |`,
      '|---|---:|---:|---:|',
      `| session-supervisor | ${s.bytesPerSession} | ${s.rssBytesPerSession} | ${s.closeAllMs} |`,
      `| raw ws | ${s.rawWsBytesPerSession} | ${s.rawWsRssBytesPerSession} | ${s.rawWsCloseAllMs} |`,
      `| above raw ws | ${s.aboveRawBytes} | ${s.rssBytesPerSession - s.rawWsRssBytesPerSession} | |`,
    );
  }
  if (report.churn !== undefined) {
    const c = report.churn;
    lines.push('', `churn: ${c.cycles} connect → echo → disconnect cycles (${c.cyclesPerSec}/s), heap after GC ${c.baselineHeapBytes} → ${c.finalHeapBytes} B: **${c.heapGrowthPct} %**, ${c.failures} failures.`);
  }
  for (const line of httpLines(report)) lines.push('', `${line}.`);
  if (report.tasks !== undefined) lines.push('', ...tasksLines(report.tasks));
  if (report.figures !== undefined) {
    lines.push('', '| figure | target | this run | same on server CPU | met |', '|---|---|---:|---:|---|');
    for (const f of report.figures) {
      lines.push(`| ${f.figure} | ${f.target} | ${f.value ?? '–'} | ${f.cpuValue ?? ''} | ${f.met === null ? 'n/a' : f.met ? 'yes' : '**no**'} |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
