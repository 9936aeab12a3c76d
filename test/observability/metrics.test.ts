import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryTransportPair, createSupervisor, createTestClock, type RequestContext, type Supervisor } from '../../src/index.js';
import { AggregatorRegistry, Counter, Registry } from 'prom-client';
import { renderPrometheus, startMetricsServer, supervisorMetrics, type MetricsServer } from '../../src/observability/metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format 0.0.4 (what a scraper would accept). */
function parse(text: string): { samples: Sample[]; types: Map<string, string>; helps: Set<string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    // The text format ignores empty lines; prom-client puts one between families.
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      expect(types.has(type[1]!), `one TYPE line for ${type[1]}`).toBe(false);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (help !== null) {
      helps.add(help[1]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(sample, `a valid sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const m of (sample![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = sample![3]!;
    samples.push({ name: sample![1]!, labels, value: raw === '+Inf' ? Infinity : Number(raw) });
  }
  return { samples, types, helps };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length, `at most one sample ${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const { samples, types, helps } = parse(await response.text());
  for (const [name] of types) expect(helps.has(name), `HELP for ${name}`).toBe(true);
  return samples;
}

describe('metrics endpoint', () => {
  let metrics: MetricsServer | undefined;
  let supervisor: Supervisor | undefined;

  afterEach(async () => {
    await metrics?.close();
    await supervisor?.close();
    metrics = undefined;
    supervisor = undefined;
  });

  it('serves stats and a latency histogram over HTTP, and the values move as requests run and cancel', async () => {
    const clock = createTestClock();
    const finish = new Map<unknown, () => void>();
    supervisor = createSupervisor({
      clock,
      methods: {
        ping: () => ({}),
        slow: (_p: unknown, ctx: RequestContext) =>
          new Promise((resolve, reject) => {
            finish.set(ctx.requestId, () => resolve('done'));
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
          }),
      },
    });
    metrics = await startMetricsServer(supervisor, { port: 0 });
    expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    let samples = await scrape(metrics.url);
    expect(value(samples, 'session_supervisor_in_flight')).toBe(0);
    expect(value(samples, 'session_supervisor_requests_total')).toBe(0);
    expect(value(samples, 'session_supervisor_healthy')).toBe(1);
    expect(value(samples, 'session_supervisor_state', { state: 'running' })).toBe(1);
    expect(value(samples, 'session_supervisor_request_duration_seconds_count')).toBe(0);

    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'slow' });
    peer.send({ jsonrpc: '2.0', id: 2, method: 'slow' });
    peer.send({ jsonrpc: '2.0', id: 3, method: 'nope' });
    samples = await scrape(metrics.url);
    expect(value(samples, 'session_supervisor_sessions', { state: 'connected' })).toBe(1);
    expect(value(samples, 'session_supervisor_sessions_opened_total')).toBe(1);
    expect(value(samples, 'session_supervisor_in_flight')).toBe(2);
    expect(value(samples, 'session_supervisor_requests_total')).toBe(2);
    expect(value(samples, 'session_supervisor_requests_refused_total')).toBe(1);

    // 30 ms on the supervisor's clock, then request 1 answers: one observation in the 0.05 s bucket.
    clock.advance(30);
    finish.get(1)!();
    peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 2 } });
    await new Promise((resolve) => setImmediate(resolve));
    samples = await scrape(metrics.url);
    expect(value(samples, 'session_supervisor_in_flight')).toBe(0);
    expect(value(samples, 'session_supervisor_requests_completed_total')).toBe(1);
    expect(value(samples, 'session_supervisor_cancellations_total', { reason: 'client' })).toBe(1);
    expect(value(samples, 'session_supervisor_cancellations_total', { reason: 'shutdown' })).toBe(0);
    expect(value(samples, 'session_supervisor_request_duration_seconds_count')).toBe(1);
    expect(value(samples, 'session_supervisor_request_duration_seconds_sum')).toBeCloseTo(0.03, 9);
    expect(value(samples, 'session_supervisor_request_duration_seconds_bucket', { le: '0.025' })).toBe(0);
    expect(value(samples, 'session_supervisor_request_duration_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(value(samples, 'session_supervisor_request_duration_seconds_bucket', { le: '+Inf' })).toBe(1);

    // The peer vanishes: nothing more can be written; the session is gone from the gauges.
    peer.vanish();
    await new Promise((resolve) => setImmediate(resolve));
    samples = await scrape(metrics.url);
    expect(value(samples, 'session_supervisor_sessions', { state: 'connected' })).toBe(0);
    expect(value(samples, 'session_supervisor_cancelling')).toBe(0);
  });

  it('keeps histogram buckets cumulative and ending in +Inf equal to the count', async () => {
    const clock = createTestClock();
    supervisor = createSupervisor({ clock, methods: { ping: () => ({}) } });
    metrics = await startMetricsServer(supervisor, { buckets: [0.5, 0.001, 0.1] });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    for (let id = 1; id <= 5; id++) peer.send({ jsonrpc: '2.0', id, method: 'ping' });
    const samples = await scrape(metrics.url);
    const buckets = samples.filter((s) => s.name === 'session_supervisor_request_duration_seconds_bucket');
    expect(buckets.map((b) => b.labels.le)).toEqual(['0.001', '0.1', '0.5', '+Inf']);
    expect(buckets.map((b) => b.value)).toEqual([5, 5, 5, 5]);
    expect(value(samples, 'session_supervisor_request_duration_seconds_count')).toBe(5);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    supervisor = createSupervisor({ methods: {} });
    metrics = await startMetricsServer(supervisor);
    const base = metrics.url.replace(/\/metrics$/, '');
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/extra`)).status).toBe(404);
    const post = await fetch(metrics.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${metrics.url}?name[]=x`)).status).toBe(200);
  });

  it('refuses to start on a port that is taken, with the listen error', async () => {
    supervisor = createSupervisor({ methods: {} });
    metrics = await startMetricsServer(supervisor);
    const port = Number(new URL(metrics.url).port);
    await expect(startMetricsServer(supervisor, { port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('refuses latency buckets that are not finite numbers above 0', async () => {
    supervisor = createSupervisor({ methods: {} });
    await expect(startMetricsServer(supervisor, { buckets: [0.1, 0] })).rejects.toThrow(RangeError);
    await expect(startMetricsServer(supervisor, { buckets: [Infinity] })).rejects.toThrow(RangeError);
    await expect(startMetricsServer(supervisor, { buckets: [Number.NaN] })).rejects.toThrow(RangeError);
  });

  it('answers HEAD with the headers only', async () => {
    supervisor = createSupervisor({ methods: {} });
    metrics = await startMetricsServer(supervisor);
    const head = await fetch(metrics.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('stops recording and listening once closed', async () => {
    supervisor = createSupervisor({ methods: {} });
    const server = await startMetricsServer(supervisor);
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
    await server.close();
  });
});

describe('metrics on prom-client', () => {
  it('adds the Node.js process metrics with defaultMetrics, beside ours, every family typed', async () => {
    const supervisor = createSupervisor({ methods: {} });
    const metrics = await startMetricsServer(supervisor, { defaultMetrics: true });
    try {
      const samples = await scrape(metrics.url);
      const names = new Set(samples.map((s) => s.name));
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles_total', 'session_supervisor_in_flight']) {
        expect(names.has(name), name).toBe(true);
      }
      // The GC histogram has samples only after a collection; its family is declared from the start.
      const { types } = parse(await (await fetch(metrics.url)).text());
      expect(types.get('nodejs_gc_duration_seconds')).toBe('histogram');
    } finally {
      await metrics.close();
    }
  });

  it('leaves process metrics out by default, and registers into an injected registry beside its own metrics', async () => {
    const clock = createTestClock();
    const supervisor = createSupervisor({ clock, methods: { ping: () => 'pong' } });
    const registry = new Registry();
    const mine = new Counter({ name: 'my_app_things_total', help: 'Things.', registers: [registry] });
    mine.inc(3);
    const metrics = supervisorMetrics(supervisor, { registry, labels: { server: 'notes' } });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    clock.advance(0);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const { samples } = parse(await registry.metrics());
    expect(value(samples, 'my_app_things_total')).toBe(3);
    expect(value(samples, 'session_supervisor_requests_total', { server: 'notes' })).toBe(1);
    expect(value(samples, 'session_supervisor_request_duration_seconds_count', { server: 'notes' })).toBe(1);
    expect(samples.some((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_'))).toBe(false);
    // Stopping removes ours and nothing else.
    metrics.stop();
    const after = parse(await registry.metrics()).samples;
    expect(after.map((s) => s.name)).toEqual(['my_app_things_total']);
    await supervisor.close();
  });

  it("aggregates across workers with prom-client's AggregatorRegistry: sums counts, healthy is the minimum", async () => {
    const workers = [createSupervisor({ methods: { ping: () => 'pong' } }), createSupervisor({ methods: { ping: () => 'pong' } })];
    const registries = workers.map((w) => supervisorMetrics(w).registry);
    workers.forEach((w, i) => {
      const { transport, peer } = createMemoryTransportPair();
      w.attach(transport);
      for (let id = 0; id <= i; id++) peer.send({ jsonrpc: '2.0', id, method: 'ping' });
    });
    const json = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
    // Worker 1 reports unhealthy: the cluster is unhealthy.
    const healthy = json[1]!.find((m) => m.name === 'session_supervisor_healthy')!;
    (healthy.values[0] as { value: number }).value = 0;
    const { samples } = parse(await AggregatorRegistry.aggregate(json).metrics());
    expect(value(samples, 'session_supervisor_requests_total')).toBe(3);
    expect(value(samples, 'session_supervisor_sessions_opened_total')).toBe(2);
    expect(value(samples, 'session_supervisor_healthy')).toBe(0);
    for (const w of workers) await w.close();
  });
});

describe('renderPrometheus', () => {
  it('adds labels to every sample, escaping quotes, backslashes and newlines', async () => {
    const stats = createSupervisor({ methods: {} }).stats();
    const text = await renderPrometheus(stats, { labels: { server: 'a "b" \\ c\nd' } });
    const { samples } = parse(text);
    expect(samples.length).toBeGreaterThan(10);
    for (const s of samples) expect(s.labels.server).toBe('a "b" \\ c\nd');
    expect(text).not.toContain('request_duration_seconds');
  });

  it('rejects an invalid label name instead of writing a broken exposition', async () => {
    const stats = createSupervisor({ methods: {} }).stats();
    await expect(renderPrometheus(stats, { labels: { 'bad-name': 'x' } })).rejects.toThrow(RangeError);
    await expect(renderPrometheus(stats, { labels: { __reserved: 'x' } })).rejects.toThrow(RangeError);
  });

  it('writes one sample per cancel reason and per session state', async () => {
    const { samples, types } = parse(await renderPrometheus(createSupervisor({ methods: {} }).stats()));
    expect(samples.filter((s) => s.name === 'session_supervisor_cancellations_total').map((s) => s.labels.reason)).toEqual([
      'client',
      'transport-closed',
      'drain-timeout',
      'request-timeout',
      'shutdown',
      'session-failed',
    ]);
    expect(types.get('session_supervisor_cancellations_total')).toBe('counter');
    expect(types.get('session_supervisor_in_flight')).toBe('gauge');
  });
});
