/**
 * inflight-10k: 10 000 requests in flight on one connection over the memory transport. Measures the
 * time to spawn all 10k handler actors (frames decoded, validated, actors created and started) and
 * the time to cancel all of them when the peer vanishes, twice:
 *
 * - **listening handlers**: each handler waits on its AbortSignal and rejects with its reason, as a
 *   real handler should. Cancel-all runs until the session has closed and every handler settled;
 *   `deliverMs` is the part until the cancel has reached every handler (the synchronous close).
 *   Node's own `AbortSignal` dispatch is part of it: `floorSpawnMs` / `floorCancelMs` are that cost
 *   alone (the same AbortController work, no runtime), measured in the same process.
 * - **runtime only**: handlers that never take their signal (so no AbortController exists), which
 *   leaves the runtime's own cost: the actors' cancel transitions and the bookkeeping. Cancel-all runs
 *   until the session is closed and every handler has been cancelled (`cancelling`, reason
 *   `transport-closed`, counted); those handlers are then abandoned after `cancelGraceMs`.
 *
 * Several rounds in one process; prints `RESULT {…}`: medians of the warm rounds (wall clock, and
 * this process's CPU time, which stays meaningful when other work shares the cores).
 */
import { performance } from 'node:perf_hooks';
import { createSupervisor } from '../../src/supervisor.js';
import { createMemoryTransportPair } from '../../src/transports/memory.js';
import type { RequestContext } from '../../src/runtime/methods.js';
import { arg } from '../lib/closed-loop.js';
import { round } from '../lib/stats.js';

const COUNT = Number(arg('count', '10000'));
const ROUNDS = Number(arg('rounds', '5'));

const waitForAbort = (_params: unknown, ctx: RequestContext): Promise<never> =>
  new Promise((_, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });

interface Round {
  spawnMs: number;
  cancelMs: number;
  spawnCpuMs: number;
  cancelCpuMs: number;
  /** Until the cancel has reached every handler (listening rounds; equal to cancelMs otherwise). */
  deliverMs: number;
}

/** A handler that never takes its signal: only the runtime's cancel path remains. */
const neverSettles = (): Promise<never> => new Promise<never>(() => {});
const RUNTIME_GRACE_MS = 20;

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/**
 * One round: spawn COUNT requests on a fresh session, then make the peer vanish. `listening` handlers
 * reject with their signal's reason, so cancel-all ends when the session has closed and every handler
 * settled; `runtime` handlers never take their signal, so it ends when the close has cancelled every
 * handler (they are abandoned after the grace, which is checked but not timed).
 */
async function measureRound(kind: 'listening' | 'runtime'): Promise<Round> {
  const supervisor = createSupervisor(
    kind === 'listening'
      ? { methods: { wait: waitForAbort }, limits: { maxInFlight: COUNT * 2 } }
      : { methods: { wait: neverSettles }, limits: { maxInFlight: COUNT * 2, cancelGraceMs: RUNTIME_GRACE_MS } },
  );
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
  if (kind === 'listening') await session.closed;
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const info = await session.closed;
  const stats = supervisor.stats();
  const expectAbandoned = kind === 'listening' ? 0 : COUNT;
  if (info.reason !== 'transport-closed' || stats.inFlight !== 0 || stats.cancelling !== 0 || stats.abandoned !== expectAbandoned) {
    throw new Error(`cancel-all incomplete: ${JSON.stringify({ reason: info.reason, stats })}`);
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
 * Node's own floor for the same work without the runtime: COUNT AbortControllers, each with one
 * abort listener that rejects a pending promise (what every handler here does), then abort all and
 * wait for every rejection. No JSON, no actors, no bookkeeping.
 */
async function floor1(): Promise<Round> {
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

const rounds: Round[] = [];
const floors: Round[] = [];
const runtimeRounds: Round[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
for (let i = 0; i < ROUNDS; i += 1) {
  // Start each round from a collected heap, so it does not pay for the garbage of the one before.
  gc?.();
  rounds.push(await measureRound('listening'));
  gc?.();
  floors.push(await floor1());
  gc?.();
  runtimeRounds.push(await measureRound('runtime'));
}
const warm = rounds.length > 1 ? rounds.slice(1) : rounds;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
process.stdout.write(
  `RESULT ${JSON.stringify({
    count: COUNT,
    spawnMs: round(median(warm.map((r) => r.spawnMs)), 2),
    cancelMs: round(median(warm.map((r) => r.cancelMs)), 2),
    spawnCpuMs: round(median(warm.map((r) => r.spawnCpuMs)), 2),
    cancelCpuMs: round(median(warm.map((r) => r.cancelCpuMs)), 2),
    floorSpawnMs: round(median(floors.slice(1).map((r) => r.spawnMs)), 2),
    floorCancelMs: round(median(floors.slice(1).map((r) => r.cancelMs)), 2),
    coldSpawnMs: round(rounds[0]!.spawnMs, 2),
    coldCancelMs: round(rounds[0]!.cancelMs, 2),
    deliverMs: round(median(warm.map((r) => r.deliverMs)), 2),
    runtimeSpawnMs: round(median(runtimeRounds.slice(1).map((r) => r.spawnMs)), 2),
    runtimeCancelMs: round(median(runtimeRounds.slice(1).map((r) => r.cancelMs)), 2),
    runtimeSpawnCpuMs: round(median(runtimeRounds.slice(1).map((r) => r.spawnCpuMs)), 2),
    runtimeCancelCpuMs: round(median(runtimeRounds.slice(1).map((r) => r.cancelCpuMs)), 2),
  })}\n`,
);
