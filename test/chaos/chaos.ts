// The chaos run: many concurrent clients against the real CLI server, each drawing a fault; once per run
// the server gets SIGTERM under load and a fresh one takes over; at the end a leak check compares the
// idle server with itself after the load.
import { ChaosClient, within, type RunClock } from './client.js';
import { FAULTS, type FaultEnv } from './faults.js';
import { emptyFigures } from './ledger.js';
import { createRng } from './rng.js';
import { startWsServer, type ExitFigures, type ServerProcess } from './server.js';

/** Options of a chaos run. */
export interface ChaosOptions {
  /** Client sessions over the run. */
  sessions: number;
  /** Sessions at once. */
  concurrency: number;
  /** Stop starting sessions after this many seconds (the run then finishes the ones under way). */
  durationS?: number;
  seed: number;
  /** Allowed heap growth after GC, in percent of the warm idle heap. */
  heapTolerancePct?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What the server answers to `$/stats` (see src/cli/debug-stats.ts). */
interface StatsReport {
  stats: { sessions: { connected: number; draining: number; closing: number }; inFlight: number; cancelling: number };
  liveActors: number;
  retainedActors: number;
  resources: Record<string, number>;
  memory: { heapUsed: number };
  heapObjects: number;
  writesAfterClose: number;
}

/** The figures of a run. `ok` is false when any invariant broke. */
export interface ChaosReport {
  sessions: number;
  requests: number;
  faults: Record<string, number>;
  crashes: number;
  unhandled: number;
  writesAfterClose: number;
  duplicateResponses: number;
  responsesAfterCancel: number;
  responsesAfterClose: number;
  crossWired: number;
  unsettled: number;
  leakedActors: number;
  leakedTimers: number;
  leakedSockets: number;
  heapGrowthPct: number;
  unexpected: string[];
  problems: string[];
  seconds: number;
  ok: boolean;
  line: string;
}

/** Open a connection, ask `$/stats`, close. */
async function queryStats(url: string, run: RunClock): Promise<StatsReport> {
  const figures = emptyFigures();
  const client = await ChaosClient.connect(url, figures, 'stats', run);
  try {
    if (!(await client.initialize())) throw new Error('stats connection: initialize failed');
    const response = await within(client.request('$/stats').answer, 15_000);
    if (response?.result === undefined) {
      throw new Error(`the server does not answer $/stats (${JSON.stringify(response?.error)}); is it built with debug stats wired (SESSION_SUPERVISOR_DEBUG_STATS=1)?`);
    }
    return response.result as StatsReport;
  } finally {
    await client.close();
  }
}

/** Wait until only the stats connection is open and nothing runs but its own request. */
async function quiesce(url: string, run: RunClock, ms: number): Promise<StatsReport> {
  const until = performance.now() + ms;
  for (;;) {
    const report = await queryStats(url, run);
    const { sessions, inFlight, cancelling } = report.stats;
    const idle = sessions.connected === 1 && sessions.draining === 0 && sessions.closing === 0 && inFlight === 1 && cancelling === 0;
    if (idle || performance.now() > until) return report;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Growth of live objects after GC (compiled code left out: it grows while the JIT warms up). */
const heapGrowth = (base: StatsReport, now: StatsReport): number => ((now.heapObjects - base.heapObjects) / base.heapObjects) * 100;

/** Run the chaos suite. Never throws for a broken invariant: the report says it. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed);
  const figures = emptyFigures();
  const unexpected: string[] = [];
  const stdio = { crashes: 0, unhandled: [] as string[], writesAfterClose: 0, leakedActors: 0 };
  const faults: Record<string, number> = {};
  const weights = Object.fromEntries(Object.entries(FAULTS).map(([name, f]) => [name, f.weight]));
  const run: RunClock = { generation: 1, shutdownStartedAt: new Map() };
  let crashes = 0;
  let serverUnhandled: string[] = [];
  let serverWritesAfterClose = 0;
  const harnessErrors: string[] = [];
  const onHarnessError = (error: unknown): void => {
    harnessErrors.push(`chaos harness: ${String(error)}`);
  };
  process.on('unhandledRejection', onHarnessError);

  let server: ServerProcess & { url: string } = await startWsServer();
  let stopping = false;
  const watchCrash = (s: ServerProcess, generation: number): void => {
    void s.exited.then((exit) => {
      if (run.shutdownStartedAt.has(generation) || stopping) return;
      crashes += 1;
      unexpected.push(`server generation ${generation} died: ${exit.code ?? exit.signal} ${s.stderr.slice(-5).join(' | ')}`);
    });
  };
  watchCrash(server, 1);

  const collectExit = (exit: ExitFigures | undefined, generation: number): void => {
    if (exit === undefined) {
      crashes += 1;
      unexpected.push(`server generation ${generation} did not exit within 30 s of SIGTERM`);
      return;
    }
    if (exit.code !== 0) {
      crashes += 1;
      unexpected.push(`server generation ${generation} exited ${exit.code ?? exit.signal} after SIGTERM`);
    }
    if (exit.counters === undefined) unexpected.push(`server generation ${generation}: no counters line at exit`);
    if (exit.debug === undefined) unexpected.push(`server generation ${generation}: no debug-stats line at exit`);
    else serverWritesAfterClose += exit.debug.writesAfterClose;
    serverUnhandled = serverUnhandled.concat(exit.unhandled);
  };

  // The warm-up runs on the server the leak check measures: long enough for the JIT and the pools
  // to reach their size, so that what grows after it is what the load leaves behind.
  const warmupCount = Math.min(1_500, Math.max(20, Math.floor(options.sessions * 0.3)));
  const restartAt = Math.floor(options.sessions * 0.25);
  let gate: Promise<void> = Promise.resolve();
  let nextSession = 0;
  let finished = 0;
  let baseline: StatsReport | undefined;
  const deadline = options.durationS === undefined ? Infinity : started + options.durationS * 1000;

  let sessionsRun = 0;
  const runOne = async (index: number, only?: string): Promise<void> => {
    sessionsRun += 1;
    const name = only ?? rng.weighted(weights);
    faults[name] = (faults[name] ?? 0) + 1;
    const env: FaultEnv = {
      url: server.url,
      rng,
      figures,
      run,
      label: `#${index} ${name}`,
      unexpected: (message) => unexpected.push(message),
      stdio,
    };
    let done = false;
    const task = FAULTS[name]!.run(env)
      .catch((error: unknown) => {
        unexpected.push(`${env.label}: threw ${String(error)}`);
      })
      .then(() => {
        done = true;
      });
    await within(task, 120_000);
    if (!done) unexpected.push(`${env.label}: did not finish within 120 s`);
  };

  // The warm-up: every kind of fault a few times, so that the idle heap is the heap of a warm server.
  const warmup = async (): Promise<void> => {
    const names = Object.keys(FAULTS).filter((n) => n !== 'stdinEof');
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < warmupCount) {
        const i = next++;
        await runOne(-1 - i, names[i % names.length]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, warmupCount)) }, () => lane()));
    baseline = await quiesce(server.url, run, 20_000);
    // A second look after one more collection: the baseline is the lower one.
    const again = await queryStats(server.url, run);
    if (again.heapObjects < baseline.heapObjects) baseline = again;
    log(`chaos: warm idle heap ${(baseline.heapObjects / 1024 / 1024).toFixed(2)} MiB of objects after ${warmupCount} warm-up sessions, liveActors=${baseline.liveActors}`);
  };

  const restart = async (): Promise<void> => {
    const old = server;
    const generation = run.generation;
    log(`chaos: SIGTERM to the server under load (generation ${generation}, ${finished} sessions done)`);
    run.shutdownStartedAt.set(generation, performance.now());
    old.terminate();
    collectExit(await within(old.exited, 30_000), generation);
    if (old.child.exitCode === null && old.child.signalCode === null) old.kill();
    server = await startWsServer();
    run.generation = generation + 1;
    watchCrash(server, run.generation);
    log(`chaos: fresh server at ${server.url}`);
    await warmup();
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      await gate;
      if (nextSession >= options.sessions || performance.now() > deadline) return;
      const index = nextSession++;
      if (index === restartAt && restartAt > 0) {
        // Under load: the other workers keep their sessions running while the server shuts down.
        let open!: () => void;
        gate = new Promise((resolve) => {
          open = resolve;
        });
        await restart();
        open();
      }
      await runOne(index);
      finished += 1;
    }
  };

  const progress = setInterval(() => log(`chaos: ${finished}/${options.sessions} sessions, ${figures.requests} requests`), 5_000);
  let finalStats: StatsReport | undefined;
  try {
    if (restartAt === 0) await warmup();
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));
    finalStats = await quiesce(server.url, run, 30_000);
    // Heap after GC: take the lowest of a few looks (collection is not exact to the byte).
    for (let i = 0; i < 4 && baseline !== undefined && heapGrowth(baseline, finalStats) > (options.heapTolerancePct ?? 5); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const again = await queryStats(server.url, run);
      if (again.heapObjects < finalStats.heapObjects) finalStats = again;
    }
  } catch (error) {
    unexpected.push(`chaos: ${String(error)}`);
  } finally {
    clearInterval(progress);
    stopping = true;
    server.terminate();
    collectExit(await within(server.exited, 30_000), run.generation);
    server.kill();
    process.off('unhandledRejection', onHarnessError);
  }

  const base = baseline;
  const leakedActors =
    stdio.leakedActors + (base !== undefined && finalStats !== undefined ? finalStats.liveActors - base.liveActors : 0);
  const resourceDelta = (type: string): number =>
    base !== undefined && finalStats !== undefined ? (finalStats.resources[type] ?? 0) - (base.resources[type] ?? 0) : 0;
  const leakedTimers = resourceDelta('Timeout');
  const leakedSockets = resourceDelta('TCPSocketWrap');
  const heapGrowthPct = base !== undefined && finalStats !== undefined ? heapGrowth(base, finalStats) : NaN;
  if (base === undefined || finalStats === undefined) unexpected.push('chaos: no leak check (stats missing)');
  unexpected.push(...harnessErrors);

  // Every client session, the warm-up on the fresh server included.
  const sessions = sessionsRun;
  const unhandled = serverUnhandled.length + stdio.unhandled.length;
  const writesAfterClose = serverWritesAfterClose + stdio.writesAfterClose;
  const ok =
    crashes + stdio.crashes === 0 &&
    unhandled === 0 &&
    writesAfterClose === 0 &&
    figures.duplicateResponses === 0 &&
    figures.responsesAfterCancel === 0 &&
    figures.responsesAfterClose === 0 &&
    figures.unsolicited === 0 &&
    figures.crossWired === 0 &&
    figures.unsettled === 0 &&
    leakedActors === 0 &&
    leakedTimers <= 0 &&
    leakedSockets <= 0 &&
    heapGrowthPct <= (options.heapTolerancePct ?? 5) &&
    unexpected.length === 0;
  const faultList = Object.entries(faults)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
  const line =
    `chaos: sessions=${sessions}, requests=${figures.requests}, faults={${faultList}}, crashes=${crashes + stdio.crashes}, ` +
    `unhandled=${unhandled}, writesAfterClose=${writesAfterClose}, duplicateResponses=${figures.duplicateResponses}, ` +
    `unsettled=${figures.unsettled}, leakedActors=${leakedActors}, heapGrowthPct=${heapGrowthPct.toFixed(2)}`;
  return {
    sessions,
    requests: figures.requests,
    faults,
    crashes: crashes + stdio.crashes,
    unhandled,
    writesAfterClose,
    duplicateResponses: figures.duplicateResponses,
    responsesAfterCancel: figures.responsesAfterCancel,
    responsesAfterClose: figures.responsesAfterClose,
    crossWired: figures.crossWired + figures.unsolicited,
    unsettled: figures.unsettled,
    leakedActors,
    leakedTimers,
    leakedSockets,
    heapGrowthPct,
    unexpected,
    problems: [...figures.problems, ...serverUnhandled, ...stdio.unhandled],
    seconds: (performance.now() - started) / 1000,
    ok,
    line,
  };
}
