import { afterAll, describe, expect, it } from 'vitest';
import { runToResult, startFixture, type Fixture } from '../../bench/lib/child.js';
import { evaluate, renderTable, type Report } from '../../bench/lib/report.js';
import { runStdioLoad } from '../../bench/lib/stdio-load.js';
import { LatencyRecorder, type LoadResult } from '../../bench/lib/stats.js';
import { runWsLoad } from '../../bench/lib/ws-load.js';

const row = (name: string, connections: number, inFlight: number, opsPerSec: number, p50Ms: number, cpuUsPerOp?: number): LoadResult => ({
  name,
  connections,
  inFlight,
  opsPerSec,
  p50Ms,
  p99Ms: p50Ms * 2,
  errors: 0,
  ...(cpuUsPerOp === undefined ? {} : { cpuUsPerOp }),
});

describe('bench harness', () => {
  const fixtures: Fixture[] = [];
  afterAll(async () => {
    await Promise.all(fixtures.map((f) => f.stop()));
  });

  it('takes nearest-rank percentiles of the recorded latencies', () => {
    const recorder = new LatencyRecorder();
    expect(recorder.percentiles(50)).toEqual([Number.NaN]);
    for (let i = 100; i >= 1; i -= 1) recorder.add(i);
    for (let i = 0; i < 70_000; i += 1) recorder.add(1_000); // grows past its first buffer
    const fresh = new LatencyRecorder();
    for (let i = 1; i <= 100; i += 1) fresh.add(i);
    expect(fresh.percentiles(50, 99, 100)).toEqual([50, 99, 100]);
    expect(recorder.count).toBe(70_100);
    expect(recorder.percentiles(0.1)).toEqual([71]);
  });

  it('checks every figure of the issue against the rows of one run, and says n/a for a missing one', () => {
    const report: Report = {
      machine: { node: process.version, cores: 2, cpu: 'test', loadAverage: [0, 0, 0] },
      results: [
        row('raw-ws', 100, 32, 100_000, 10, 10),
        row('supervised-ws', 100, 32, 85_000, 12, 12),
        row('raw-ws', 1, 1, 20_000, 0.05),
        row('supervised-ws', 1, 1, 15_000, 0.09),
        row('raw-stdio', 1, 32, 100_000, 0.3, 6),
        row('supervised-stdio', 1, 32, 50_000, 0.6, 12),
        row('mcp-sdk-stdio', 1, 32, 20_000, 1.5, 24),
      ],
      inflight10k: { count: 10_000, spawnMs: 90, cancelMs: 60, spawnCpuMs: 90, cancelCpuMs: 60, floorSpawnMs: 20, floorCancelMs: 30, coldSpawnMs: 120, coldCancelMs: 70, deliverMs: 55, onCancelSpawnMs: 40, onCancelCancelMs: 45, onCancelSpawnCpuMs: 40, onCancelCancelCpuMs: 45, runtimeSpawnMs: 30, runtimeCancelMs: 51, runtimeSpawnCpuMs: 30, runtimeCancelCpuMs: 51 },
    };
    const figures = evaluate(report);
    const byName = new Map(figures.map((f) => [f.figure, f]));
    expect(byName.get('supervised-ws / raw-ws req/s at 100x32')).toMatchObject({ value: 0.85, met: true, cpuValue: 0.833 });
    expect(byName.get('supervised-ws added p50 latency at 1x1')).toMatchObject({ value: 40, met: false });
    expect(byName.get('supervised-stdio / raw-stdio req/s at 1x32')).toMatchObject({ value: 0.5, met: false });
    expect(byName.get('supervised-stdio / mcp-sdk-stdio req/s at 1x32')).toMatchObject({ value: 2.5, met: true });
    expect(byName.get('inflight-10k spawn, AbortSignal listeners')).toMatchObject({ value: 90, met: true });
    expect(byName.get('inflight-10k spawn, runtime only')).toMatchObject({ value: 30, met: true });
    expect(byName.get('inflight-10k cancel-all, AbortSignal listeners')).toMatchObject({ value: 60, met: false });
    expect(byName.get('inflight-10k cancel-all, onCancel listeners')).toMatchObject({ value: 45, met: true });
    expect(byName.get('inflight-10k cancel-all, runtime only')).toMatchObject({ value: 51, met: false });
    expect(byName.get('churn heap growth')).toMatchObject({ value: null, met: null });
    expect(renderTable({ ...report, figures })).toContain('supervised-stdio / mcp-sdk-stdio req/s at 1x32');
  });

  it('runs the inflight scenario: every handler spawned, then cancelled when the peer vanishes', async () => {
    const result = await runToResult('scenarios/inflight-10k.ts', ['--count', '300', '--rounds', '2'], { timeoutMs: 20_000 });
    expect(result).toMatchObject({ count: 300 });
    expect(result.spawnMs).toBeGreaterThan(0);
    expect(result.cancelMs).toBeGreaterThan(0);
    expect(result.deliverMs).toBeGreaterThan(0);
    expect(result.deliverMs).toBeLessThanOrEqual(result.cancelMs as number);
    expect(result.onCancelCancelMs).toBeGreaterThan(0);
    expect(result.runtimeSpawnMs).toBeGreaterThan(0);
    expect(result.runtimeCancelMs).toBeGreaterThan(0);
  });

  it('drives a WebSocket server in a closed loop and gets only echoes back', async () => {
    const fixture = await startFixture('servers/supervised.ts', ['--ws']);
    fixtures.push(fixture);
    const url = `ws://127.0.0.1:${fixture.ready.port as number}`;
    for (const kind of ['jsonrpc', 'mcp'] as const) {
      const result = await runWsLoad({ name: kind, url, kind, connections: 2, inFlight: 4, warmupMs: 100, measureMs: 300 });
      expect(result.errors).toBe(0);
      expect(result.opsPerSec).toBeGreaterThan(0);
      expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    }
  });

  it('drives a stdio server through the MCP handshake and tools/call echo', async () => {
    const [result] = await runStdioLoad({
      name: 'supervised-stdio',
      server: ['--import', 'tsx', 'bench/servers/supervised.ts', '--stdio'],
      shapes: [{ inFlight: 8 }],
      warmupMs: 100,
      measureMs: 300,
    });
    expect(result).toMatchObject({ name: 'supervised-stdio', connections: 1, inFlight: 8, errors: 0 });
    expect(result!.opsPerSec).toBeGreaterThan(0);
  });
});
