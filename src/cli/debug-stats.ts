import { writeSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import type { MethodTable } from '../runtime/methods.js';
import type { Supervisor, SupervisorStats } from '../supervisor.js';

/**
 * The environment variable that turns the debug statistics on (`1`). Off by default: the `$/stats`
 * method reports process internals and forces garbage collections, which a production server should
 * not offer to its peers.
 *
 * @example
 * ```ts
 * if (process.env[DEBUG_STATS_ENV] === '1') console.log('debug stats on');
 * ```
 */
export const DEBUG_STATS_ENV = 'SESSION_SUPERVISOR_DEBUG_STATS';

/**
 * The name of the JSON-RPC method that answers {@link DebugStatsReport}.
 *
 * @example
 * ```ts
 * ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: DEBUG_STATS_METHOD }));
 * ```
 */
export const DEBUG_STATS_METHOD = '$/stats';

/**
 * What `$/stats` answers: the supervisor's stats, actors still alive, timers and sockets still open,
 * and the heap after a full garbage collection. A leak check compares it before and after load.
 *
 * @example
 * ```ts
 * const report = response.result as DebugStatsReport;
 * report.liveActors; // 1 when idle: the supervisor itself
 * ```
 */
export interface DebugStatsReport {
  stats: SupervisorStats;
  /** Actors started and not yet finished (done, stopped or failed). */
  liveActors: number;
  /** Actor objects still reachable after a full GC (a leak keeps them). */
  retainedActors: number;
  /** Active libuv resources by type (`Timeout`, `TCPSocketWrap`, `TCPServerWrap`, …). */
  resources: Record<string, number>;
  /** `process.memoryUsage()` after the GC. */
  memory: NodeJS.MemoryUsage;
  /**
   * Bytes of live objects after the GC, compiled code left out: code grows while the JIT warms up
   * (for thousands of requests), objects do not unless something leaks.
   */
  heapObjects: number;
  /** Frames the transports were offered after their output closed (invariant 1: stays 0). */
  writesAfterClose: number;
  /** Whether a full GC could be forced. */
  gc: boolean;
}

/**
 * The debug statistics of one server: an inspection observer that counts actors, and the `$/stats`
 * method that reports them.
 *
 * @example
 * ```ts
 * const debug = createDebugStats();
 * const supervisor = createSupervisor({ inspect: debug.inspect, methods: { ...methods, ...debug.methods(() => supervisor) } });
 * debug.watch(supervisor);
 * ```
 */
export interface DebugStats {
  /** Pass as the supervisor's `inspect` option (it only counts; it keeps no actor alive). */
  inspect(event: InspectionEvent): void;
  /** The method table entry for `$/stats`; `supervisor` is read when the method runs. */
  methods(supervisor: () => Supervisor): MethodTable;
  /** The report, as `$/stats` answers it. */
  report(supervisor: Supervisor): Promise<DebugStatsReport>;
  /**
   * Follow the supervisor's sessions to count writes after close on their transports, and print one
   * `debug-stats {…}` line on stderr when the process exits (for servers that cannot be asked, like a
   * stdio server whose stdin ended).
   */
  watch(supervisor: Supervisor): void;
}

/** How long a closed session's transport is still watched for late writes. */
const LATE_WRITE_WINDOW_MS = 2_000;

let cachedGc: (() => void) | null | undefined;

/** `global.gc`, or one obtained by turning `--expose-gc` on at run time; `null` if neither works. */
function findGc(): (() => void) | null {
  if (cachedGc !== undefined) return cachedGc;
  const direct = (globalThis as { gc?: () => void }).gc;
  if (typeof direct === 'function') return (cachedGc = direct);
  try {
    setFlagsFromString('--expose-gc');
    const fromContext = runInNewContext('gc') as unknown;
    cachedGc = typeof fromContext === 'function' ? (fromContext as () => void) : null;
  } catch {
    cachedGc = null;
  }
  return cachedGc;
}

function heapObjectBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (!space.space_name.startsWith('code')) bytes += space.space_used_size;
  }
  return bytes;
}

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/**
 * Create the debug statistics of one server.
 *
 * @example
 * ```ts
 * import { createDebugStats, DEBUG_STATS_ENV } from './debug-stats.js';
 * const debug = process.env[DEBUG_STATS_ENV] === '1' ? createDebugStats() : undefined;
 * ```
 */
export function createDebugStats(): DebugStats {
  let liveActors = 0;
  let retainedActors = 0;
  const finished = new WeakSet<ActorRefLike>();
  const started = new WeakSet<ActorRefLike>();
  const registry = new FinalizationRegistry<null>(() => {
    retainedActors -= 1;
  });

  let closedWritesAfterClose = 0;
  const open = new Map<string, { readonly writesAfterClose?: number }>();
  const writesAfterClose = (): number => {
    let sum = closedWritesAfterClose;
    for (const transport of open.values()) sum += transport.writesAfterClose ?? 0;
    return sum;
  };

  const watch = (supervisor: Supervisor): void => {
    supervisor.on('session.opened', ({ sessionId }) => {
      const session = supervisor.sessions().find((s) => s.id === sessionId);
      if (session !== undefined) open.set(sessionId, session.transport as { readonly writesAfterClose?: number });
    });
    supervisor.on('session.closed', ({ sessionId }) => {
      const transport = open.get(sessionId);
      if (transport === undefined) return;
      // Keep counting for a while: a write after close comes right after the close, if ever.
      setTimeout(() => {
        open.delete(sessionId);
        closedWritesAfterClose += transport.writesAfterClose ?? 0;
      }, LATE_WRITE_WINDOW_MS).unref();
    });
    process.once('exit', () => {
      const line = { stats: supervisor.stats(), liveActors, writesAfterClose: writesAfterClose() };
      try {
        writeSync(2, `debug-stats ${JSON.stringify(line)}\n`);
      } catch {
        // stderr is gone: nothing to report to.
      }
    });
  };

  const inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.actor') {
      if (started.has(event.actorRef)) return;
      started.add(event.actorRef);
      liveActors += 1;
      retainedActors += 1;
      registry.register(event.actorRef, null);
      return;
    }
    if (event.type !== '@xstate.snapshot') return;
    const status = (event.snapshot as { status?: string }).status;
    if (status === 'active' || finished.has(event.actorRef) || !started.has(event.actorRef)) return;
    finished.add(event.actorRef);
    liveActors -= 1;
  };

  const report = async (supervisor: Supervisor): Promise<DebugStatsReport> => {
    const gc = findGc();
    if (gc !== null) {
      // Two rounds: the first collects, the turns in between let finalizers run, the second settles.
      for (let round = 0; round < 2; round++) {
        gc();
        await nextTurn();
        await nextTurn();
      }
    }
    return {
      stats: supervisor.stats(),
      liveActors,
      retainedActors,
      resources: countResources(),
      memory: process.memoryUsage(),
      heapObjects: heapObjectBytes(),
      writesAfterClose: writesAfterClose(),
      gc: gc !== null,
    };
  };

  return {
    inspect,
    report,
    watch,
    methods: (supervisor) => ({ [DEBUG_STATS_METHOD]: () => report(supervisor()) }),
  };
}
