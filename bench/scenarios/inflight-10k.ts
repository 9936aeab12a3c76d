/**
 * inflight-10k: 10 000 requests in flight on one connection over the memory transport. Measures the
 * time to spawn all 10k handler actors (frames decoded, validated, actors created and started) and
 * the time to cancel all of them when the peer vanishes, for three kinds of handler:
 *
 * - **signal**: each handler listens on its `AbortSignal` and rejects with its reason, as the MCP
 *   SDK's handlers do. Cancel-all runs until the session has closed and every handler settled;
 *   `deliverMs` is the part until the cancel has reached every handler (the synchronous close).
 *   Node's own `AbortSignal` work is part of it: `floorSpawnMs` / `floorCancelMs` are that cost
 *   alone (the same AbortController work, no runtime), measured in the same process.
 * - **onCancel**: each handler listens with `ctx.onCancel` and rejects with its reason. Same end
 *   point: closed, every handler settled.
 * - **runtime**: handlers that never listen, which leaves the runtime's own cost (the actors'
 *   cancel transitions and the bookkeeping). Cancel-all runs until the session is closed and every
 *   handler has been cancelled (`cancelling`, reason `transport-closed`, counted); those handlers are
 *   then abandoned after `cancelGraceMs`, which is checked but not timed.
 *
 * Several rounds in one process, each from a collected heap; prints `RESULT {…}`: medians of the
 * warm rounds (wall clock, and this process's CPU time, which stays meaningful when other work
 * shares the cores).
 */
import { performance } from 'node:perf_hooks';
import { createSupervisor } from '../../src/supervisor.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import type { MethodHandler } from '../../src/runtime/methods.js';
import { arg } from '../lib/closed-loop.js';
import { round } from '../lib/stats.js';

const COUNT = Number(arg('count', '10000'));
const ROUNDS = Number(arg('rounds', '5'));
const RUNTIME_GRACE_MS = 20;

type Kind = 'signal' | 'onCancel' | 'runtime';

const HANDLERS: Record<Kind, MethodHandler> = {
  signal: (_params, ctx) =>
    new Promise((_, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    }),
  onCancel: (_params, ctx) => new Promise((_, reject) => ctx.onCancel(reject)),
  runtime: () => new Promise<never>(() => {}),
};

interface Round {
  spawnMs: number;
  cancelMs: number;
  spawnCpuMs: number;
  cancelCpuMs: number;
  /** Until the cancel has reached every handler (the synchronous part of the close). */
  deliverMs: number;
}

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/** One round: spawn COUNT requests on a fresh session, then make the peer vanish. */
async function measureRound(kind: Kind): Promise<Round> {
  const listening = kind !== 'runtime';
  const supervisor = createSupervisor({
    methods: { wait: HANDLERS[kind] },
    limits: listening ? { maxInFlight: COUNT * 2 } : { maxInFlight: COUNT * 2, cancelGraceMs: RUNTIME_GRACE_MS },
  });
  const { transport, peer } = createMemoryTransportPair();
  const session = supervisor.attach(transport);
  const frames = Array.from({ length: COUNT }, (_, i) => `{"jsonrpc":"2.0","id":${i + 1},"method":"wait","params":{"n":${i}}}`);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const frame of frames) peer.send(frame);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  if (session.inFlight !== COUNT) throw new Error(`expected ${COUNT} in flight, got ${session.inFlight}`);
  peer.vanish();
  const tDelivered = performance.now();
  const cancelled = supervisor.stats().cancelled['transport-closed'];
  if (session.state !== 'closed' || session.inFlight !== 0 || cancelled !== COUNT) {
    throw new Error(`cancel not delivered to all: ${JSON.stringify({ state: session.state, inFlight: session.inFlight, cancelled })}`);
  }
  if (listening) await session.closed;
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const info = await session.closed;
  const stats = supervisor.stats();
  const abandoned = listening ? 0 : COUNT;
  if (info.reason !== 'transport-closed' || stats.inFlight !== 0 || stats.cancelling !== 0 || stats.abandoned !== abandoned) {
    throw new Error(`cancel-all incomplete: ${JSON.stringify({ kind, reason: info.reason, stats })}`);
  }
  if (transport.writesAfterClose !== 0) throw new Error('a frame was written after close');
  await supervisor.close();
  return {
    spawnMs: t1 - t0,
    cancelMs: t2 - t1,
    spawnCpuMs: cpuMs(c1) - cpuMs(c0),
    cancelCpuMs: cpuMs(c2) - cpuMs(c1),
    deliverMs: tDelivered - t1,
  };
}

/**
 * Node's own floor for the signal handlers' work without the runtime: COUNT AbortControllers, each
 * with one abort listener that rejects a pending promise, then abort all and wait for every
 * rejection. No JSON, no actors, no bookkeeping.
 */
async function floorRound(): Promise<Round> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const controllers: AbortController[] = [];
  const settled: Promise<unknown>[] = [];
  for (let i = 0; i < COUNT; i += 1) {
    const controller = new AbortController();
    controllers.push(controller);
    const signal = controller.signal;
    settled.push(
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }).catch(() => undefined),
    );
  }
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (const controller of controllers) controller.abort(new Error('cancelled'));
  await Promise.all(settled);
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  return { spawnMs: t1 - t0, cancelMs: t2 - t1, spawnCpuMs: cpuMs(c1) - cpuMs(c0), cancelCpuMs: cpuMs(c2) - cpuMs(c1), deliverMs: t2 - t1 };
}

const rounds: Record<Kind | 'floor', Round[]> = { signal: [], onCancel: [], runtime: [], floor: [] };
const gc = (globalThis as { gc?: () => void }).gc;
for (let i = 0; i < ROUNDS; i += 1) {
  for (const kind of ['signal', 'floor', 'onCancel', 'runtime'] as const) {
    // Start each round from a collected heap, so it does not pay for the garbage of the one before.
    gc?.();
    rounds[kind].push(kind === 'floor' ? await floorRound() : await measureRound(kind));
  }
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
/** The median of the warm rounds (all but the first, when there are several) of one field. */
const warm = (kind: Kind | 'floor', field: keyof Round): number => {
  const list = rounds[kind].length > 1 ? rounds[kind].slice(1) : rounds[kind];
  return round(median(list.map((r) => r[field])), 2);
};
process.stdout.write(
  `RESULT ${JSON.stringify({
    count: COUNT,
    spawnMs: warm('signal', 'spawnMs'),
    cancelMs: warm('signal', 'cancelMs'),
    spawnCpuMs: warm('signal', 'spawnCpuMs'),
    cancelCpuMs: warm('signal', 'cancelCpuMs'),
    deliverMs: warm('signal', 'deliverMs'),
    coldSpawnMs: round(rounds.signal[0]!.spawnMs, 2),
    coldCancelMs: round(rounds.signal[0]!.cancelMs, 2),
    floorSpawnMs: warm('floor', 'spawnMs'),
    floorCancelMs: warm('floor', 'cancelMs'),
    onCancelSpawnMs: warm('onCancel', 'spawnMs'),
    onCancelCancelMs: warm('onCancel', 'cancelMs'),
    onCancelSpawnCpuMs: warm('onCancel', 'spawnCpuMs'),
    onCancelCancelCpuMs: warm('onCancel', 'cancelCpuMs'),
    runtimeSpawnMs: warm('runtime', 'spawnMs'),
    runtimeCancelMs: warm('runtime', 'cancelMs'),
    runtimeSpawnCpuMs: warm('runtime', 'spawnCpuMs'),
    runtimeCancelCpuMs: warm('runtime', 'cancelCpuMs'),
  })}\n`,
);
