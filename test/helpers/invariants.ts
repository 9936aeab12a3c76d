/**
 * A reusable checker of the six invariants of DESIGN.md over one supervisor and its in-memory peers.
 *
 * Wire it in three places — the supervisor's `inspect` and `logger`, the method table, and the peers —
 * then ask it for violations at any quiet moment (`assertHolds()`) and once everything is closed
 * (`assertFinal()`). `createCheckedSupervisor()` does the wiring for you.
 *
 * @example
 * ```ts
 * const { supervisor, checker, clock, connect } = createCheckedSupervisor({ methods: { echo: (p) => p } });
 * const { peer } = connect();
 * peer.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } });
 * checker.assertHolds();
 * await supervisor.close();
 * checker.assertFinal();
 * ```
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { connectionPhase, connectionSessionId } from '../../machines/connection.js';
import { handlerLogic } from '../../machines/handler-logic.js';
import type { HandlerSnapshot } from '../../machines/handler-logic.js';
import type { RequestId } from '../../machines/handler.js';
import { CANCEL_REASONS } from '../../machines/reasons.js';
import { createTestClock, type TestClock } from '../../src/runtime/clock.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import type { Logger } from '../../src/runtime/logger.js';
import { CancelledError, type MethodDefinition, type MethodTable, type RequestContext } from '../../src/runtime/methods.js';
import type { ControlledMethod } from './deferred.js';
import type { Session } from '../../src/runtime/session.js';
import { createSupervisor, type Supervisor, type SupervisorOptions } from '../../src/supervisor.js';
import {
  createMemoryTransportPair,
  type MemoryPeer,
  type MemoryTransport,
  type MemoryTransportOptions,
} from '../../src/transports/memory.js';

/**
 * Options of {@link createInvariantChecker}.
 *
 * @example
 * ```ts
 * createInvariantChecker({ clock, dialect: mcpDialect, expectSessionFailures: true });
 * ```
 */
export interface InvariantCheckerOptions {
  /** The supervisor's clock: the final check wants `pending === 0`, and invariant 6 is timed on it. */
  clock?: TestClock;
  /** The supervisor's dialect: its cancel notification, and whether it answers after a client cancel. Default: JSON-RPC. */
  dialect?: Dialect;
  /** Session failures are part of the test: failed connection actors are not reported. Default false. */
  expectSessionFailures?: boolean;
}

/**
 * One call of a method wrapped by {@link InvariantChecker.wrap}.
 *
 * @example
 * ```ts
 * checker.calls[0]?.signal.aborted; // false unless cancelled
 * ```
 */
export interface HandlerCall {
  readonly sessionId: string;
  readonly requestId: RequestId;
  readonly method: string;
  /** The signal the handler got (taken at the start of the call). */
  readonly signal: AbortSignal;
  /** The handler actor the runtime created for this call. */
  readonly actor: AnyActorRef | undefined;
}

/** One peer and its transport, tracked message by message. */
interface TrackedPeer {
  readonly name: string;
  readonly transport: MemoryTransport;
  /** Requests sent and responses received, in the order they happened. */
  readonly timeline: Array<{ dir: 'out'; message: unknown } | { dir: 'in'; message: unknown }>;
}

interface TrackedActor {
  readonly ref: AnyActorRef;
  readonly kind: 'supervisor' | 'connection' | 'handler';
  /** How many times a snapshot with status `done` was published. */
  doneCount: number;
}

/**
 * The checker. Every `violations*()` call returns human-readable strings (empty: all invariants hold).
 *
 * @example
 * ```ts
 * expect(checker.violations()).toEqual([]);
 * ```
 */
export interface InvariantChecker {
  /** Pass as `createSupervisor({ inspect })`: it sees every supervisor, connection and handler actor. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Pass as `createSupervisor({ logger })`: it records every log line in {@link InvariantChecker.logs}. */
  readonly logger: Logger;
  readonly logs: ReadonlyArray<{ level: keyof Logger; obj: object; msg: string | undefined }>;
  /** Every call of a wrapped method. */
  readonly calls: readonly HandlerCall[];
  /** Wrap a method table so every call is tracked (its signal, its handler actor). */
  wrap(methods: MethodTable): MethodTable;
  /** Watch a supervisor (its events and stats). Call once, right after `createSupervisor`. */
  watch(supervisor: Supervisor): void;
  /** Track a memory pair: requests the peer sends, responses it receives, writes after close. */
  track(transport: MemoryTransport, peer: MemoryPeer, name?: string): void;
  /** Create a tracked memory pair and attach it to the watched supervisor. */
  connect(options?: MemoryTransportOptions): { transport: MemoryTransport; peer: MemoryPeer; session: Session };
  /** Invariants that must hold at any quiet moment (1, 2 signal part, 3, 4, 6 admission). */
  violations(): string[];
  /** Everything, once the supervisor is closed: adds 2 (settled once), 5 (nothing live) and 6 (drain bound). */
  finalViolations(): string[];
  /** Throw with the list unless {@link InvariantChecker.violations} is empty. */
  assertHolds(): void;
  /** Throw with the list unless {@link InvariantChecker.finalViolations} is empty. */
  assertFinal(): void;
  /** Handler actors seen, with their final outcome kinds counted. */
  handlerOutcomes(): Record<'running' | 'cancelling' | 'result' | 'error' | 'cancelled' | 'abandoned', number>;
}

const keyOf = (sessionId: string, id: unknown): string => `${sessionId}|${JSON.stringify(id)}`;

/** An actor's name in messages: a connection actor (id `connection`) by its session id. */
const nameOf = (a: TrackedActor): string => (a.kind === 'connection' ? connectionSessionId(a.ref) : a.ref.id);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parse(message: unknown): unknown {
  if (typeof message !== 'string') return message;
  try {
    return JSON.parse(message) as unknown;
  } catch {
    return undefined;
  }
}

const flatten = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/**
 * Create a checker of the six invariants. See the module comment for the wiring.
 *
 * @example
 * ```ts
 * const checker = createInvariantChecker({ clock });
 * const supervisor = createSupervisor({ clock, methods: checker.wrap(methods), inspect: checker.inspect, logger: checker.logger });
 * checker.watch(supervisor);
 * ```
 */
export function createInvariantChecker(options: InvariantCheckerOptions = {}): InvariantChecker {
  const dialect = options.dialect ?? jsonRpcDialect;
  const forbidsAnswerAfterClientCancel = dialect.responseOnCancel('client') === undefined;
  const actors: TrackedActor[] = [];
  const byRef = new Map<AnyActorRef, TrackedActor>();
  const latestHandler = new Map<string, AnyActorRef>();
  const admissionViolations: string[] = [];
  const drainStartedAt = new Map<string, number>();
  const closedAt = new Map<string, number>();
  const peers: TrackedPeer[] = [];
  const calls: HandlerCall[] = [];
  const logs: Array<{ level: keyof Logger; obj: object; msg: string | undefined }> = [];
  const events = { result: 0, error: 0, abandoned: 0, cancelled: 0 };
  let supervisor: Supervisor | undefined;
  let root: AnyActorRef | undefined;
  let wrapped = false;

  const now = (): number | undefined => options.clock?.now();

  const inspect = (event: InspectionEvent): void => {
    // Inspection events type their actor loosely; in this system every one is a full actor ref.
    const ref = event.actorRef as AnyActorRef;
    if (event.type === '@xstate.actor') {
      const parent = ref._parent;
      const kind: TrackedActor['kind'] =
        parent === undefined ? 'supervisor' : (ref as { src?: unknown }).src === handlerLogic ? 'handler' : 'connection';
      if (kind === 'supervisor') root = ref;
      if (kind === 'handler' && parent !== undefined) {
        const snapshot = parent.getSnapshot() as { status: string; value: unknown };
        const state = snapshot.status === 'error' ? 'error' : connectionPhase(snapshot);
        if (state !== 'connected') admissionViolations.push(`inv6: handler ${ref.id} spawned while its session was ${String(state)}`);
      }
      const tracked: TrackedActor = { ref, kind, doneCount: 0 };
      actors.push(tracked);
      byRef.set(ref, tracked);
      return;
    }
    if (event.type !== '@xstate.snapshot') return;
    const tracked = byRef.get(ref);
    if (tracked === undefined) return;
    const snapshot = event.snapshot as { status: string; value?: unknown; context?: unknown };
    if (snapshot.status === 'done') tracked.doneCount += 1;
    if (tracked.kind === 'handler' && event.event.type === 'xstate.init') {
      const context = (snapshot as HandlerSnapshot).context;
      latestHandler.set(keyOf(ref._parent === undefined ? '' : connectionSessionId(ref._parent), context.requestId), ref);
    }
    const sessionId = tracked.kind === 'connection' ? connectionSessionId(ref) : '';
    if (tracked.kind === 'connection' && connectionPhase(snapshot) === 'draining' && !drainStartedAt.has(sessionId)) {
      const t = now();
      if (t !== undefined) drainStartedAt.set(sessionId, t);
    }
  };

  const record =
    (level: keyof Logger) =>
    (obj: object, msg?: string): void => {
      logs.push({ level, obj, msg });
    };
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };

  const wrapOne = (name: string, entry: MethodTable[string]): MethodDefinition => {
    const definition: MethodDefinition = typeof entry === 'function' ? { handler: entry } : entry;
    const inner = definition.handler;
    const handler = (params: unknown, ctx: RequestContext): unknown => {
      calls.push({
        sessionId: ctx.session.id,
        requestId: ctx.requestId,
        method: name,
        signal: ctx.signal,
        actor: latestHandler.get(keyOf(ctx.session.id, ctx.requestId)),
      });
      return inner(params, ctx);
    };
    return definition.params === undefined ? { handler } : { params: definition.params, handler };
  };

  const checker: InvariantChecker = {
    inspect,
    logger,
    logs,
    calls,
    wrap(methods) {
      wrapped = true;
      return Object.fromEntries(Object.entries(methods).map(([name, entry]) => [name, wrapOne(name, entry)]));
    },
    watch(s) {
      supervisor = s;
      s.on('request.completed', (e) => (events[e.outcome] += 1));
      s.on('request.cancelled', () => (events.cancelled += 1));
      s.on('handler.abandoned', () => (events.abandoned += 1));
      s.on('session.closed', (info) => {
        const t = now();
        if (t !== undefined) closedAt.set(info.sessionId, t);
      });
    },
    track(transport, peer, name = `peer${peers.length + 1}`) {
      const tracked: TrackedPeer = { name, transport, timeline: [] };
      peers.push(tracked);
      const send = peer.send.bind(peer);
      const endInput = peer.endInput.bind(peer);
      const vanish = peer.vanish.bind(peer);
      // After its half-close (or vanishing) the peer sends nothing: a frame it tries then never
      // reaches the server, so it is not part of the conversation (a cancel sent then cancels nothing).
      let inputOpen = true;
      peer.send = (message: unknown) => {
        if (inputOpen) tracked.timeline.push({ dir: 'out', message: parse(message) });
        send(message);
      };
      peer.endInput = () => {
        inputOpen = false;
        endInput();
      };
      peer.vanish = (detail?: string) => {
        inputOpen = false;
        vanish(detail);
      };
      peer.onMessage((message) => tracked.timeline.push({ dir: 'in', message }));
    },
    connect(pairOptions) {
      if (supervisor === undefined) throw new Error('invariant checker: call watch(supervisor) before connect()');
      const { transport, peer } = createMemoryTransportPair(pairOptions);
      checker.track(transport, peer);
      const session = supervisor.attach(transport);
      return { transport, peer, session };
    },
    violations() {
      const out: string[] = [...admissionViolations];
      for (const p of peers) {
        // Invariant 1.
        if (p.transport.writesAfterClose !== 0) out.push(`inv1: ${p.name}: ${p.transport.writesAfterClose} write(s) after close`);
        out.push(...checkResponses(p, dialect, forbidsAnswerAfterClientCancel));
      }
      // Invariant 2 (signal part): aborted exactly when cancelled, with the reason.
      for (const call of calls) {
        if (call.actor === undefined) {
          out.push(`inv2: ${call.method} #${String(call.requestId)} ran without a handler actor`);
          continue;
        }
        const reason = (call.actor.getSnapshot() as HandlerSnapshot).context.reason;
        if (call.signal.aborted !== (reason !== null)) {
          out.push(`inv2: ${call.method} #${String(call.requestId)}: signal.aborted=${call.signal.aborted} but cancel reason=${String(reason)}`);
        } else if (reason !== null) {
          const got = call.signal.reason as unknown;
          if (!(got instanceof CancelledError) || got.reason !== reason) {
            out.push(`inv2: ${call.method} #${String(call.requestId)}: signal.reason does not name ${reason}`);
          }
        }
      }
      // Invariant 4: nothing failed that was not meant to.
      for (const a of actors) {
        if (a.ref.getSnapshot().status !== 'error') continue;
        if (a.kind === 'connection' && options.expectSessionFailures === true) continue;
        out.push(`inv4: ${a.kind} actor ${nameOf(a)} is in status error`);
      }
      if (supervisor !== undefined && options.expectSessionFailures !== true && supervisor.stats().sessionFailures > 0) {
        out.push(`inv4: ${supervisor.stats().sessionFailures} unexpected session failure(s)`);
      }
      for (const line of logs) {
        if (line.level === 'error' && line.msg === 'supervisor actor failed') out.push('inv4: the supervisor actor failed');
      }
      for (const a of actors) if (a.doneCount > 1) out.push(`inv2: ${a.kind} actor ${nameOf(a)} completed ${a.doneCount} times`);
      return out;
    },
    finalViolations() {
      const out = checker.violations();
      // Invariant 2: every handler actor settled exactly once; the counters add up.
      const handlers = actors.filter((a) => a.kind === 'handler');
      for (const h of handlers) {
        if (h.doneCount !== 1) out.push(`inv2: handler ${h.ref.id} settled ${h.doneCount} times`);
      }
      if (supervisor !== undefined) {
        const s = supervisor.stats();
        const cancelled = CANCEL_REASONS.reduce((n, r) => n + s.cancelled[r], 0);
        if (s.requests !== s.completed + s.failed + cancelled) {
          out.push(`inv2: requests ${s.requests} ≠ completed ${s.completed} + failed ${s.failed} + cancelled ${cancelled}`);
        }
        if (s.inFlight !== 0 || s.cancelling !== 0) out.push(`inv2: ${s.inFlight} in flight and ${s.cancelling} cancelling after close`);
        if (handlers.length !== s.requests) out.push(`inv2: ${handlers.length} handler actors for ${s.requests} requests`);
        if (wrapped && calls.length !== s.requests) out.push(`inv2: ${calls.length} handler calls for ${s.requests} requests`);
        // The same figures, counted from the supervisor's events.
        if (events.result !== s.completed || events.error !== s.failed) {
          out.push(`inv2: request.completed events (${events.result} result, ${events.error} error) ≠ stats (${s.completed}, ${s.failed})`);
        }
        if (events.cancelled !== cancelled) out.push(`inv2: ${events.cancelled} request.cancelled events ≠ cancelled ${cancelled}`);
        if (events.abandoned !== s.abandoned) out.push(`inv2: ${events.abandoned} handler.abandoned events ≠ abandoned ${s.abandoned}`);
        const outcomes = checker.handlerOutcomes();
        if (outcomes.result !== s.completed) out.push(`inv2: ${outcomes.result} result outcomes ≠ completed ${s.completed}`);
        if (outcomes.error !== s.failed) out.push(`inv2: ${outcomes.error} error outcomes ≠ failed ${s.failed}`);
        if (outcomes.abandoned !== s.abandoned) out.push(`inv2: ${outcomes.abandoned} abandoned outcomes ≠ abandoned ${s.abandoned}`);
        if (outcomes.cancelled + outcomes.abandoned !== cancelled) {
          out.push(`inv2: ${outcomes.cancelled + outcomes.abandoned} cancelled outcomes ≠ cancelled ${cancelled}`);
        }
        // Invariant 5: nothing live.
        if (supervisor.sessions().length !== 0) out.push(`inv5: ${supervisor.sessions().length} session(s) still open`);
      }
      for (const a of actors) {
        if (a.kind === 'supervisor') continue;
        if (a.ref.getSnapshot().status === 'active') out.push(`inv5: ${a.kind} actor ${nameOf(a)} is still active`);
      }
      if (options.clock !== undefined && options.clock.pending !== 0) out.push(`inv5: ${options.clock.pending} timer(s) pending`);
      // Invariant 6: a drain ends within drainTimeoutMs + cancelGraceMs.
      if (supervisor !== undefined) {
        const bound = supervisor.limits.drainTimeoutMs + supervisor.limits.cancelGraceMs;
        for (const [sessionId, started] of drainStartedAt) {
          const ended = closedAt.get(sessionId);
          if (ended === undefined) out.push(`inv6: session ${sessionId} started draining and never closed`);
          else if (ended - started > bound) out.push(`inv6: session ${sessionId} drained for ${ended - started} ms > ${bound} ms`);
        }
      }
      if (root === undefined && supervisor !== undefined) out.push('inv5: the inspect observer saw no supervisor actor (not wired?)');
      return out;
    },
    assertHolds() {
      const list = checker.violations();
      if (list.length > 0) throw new Error(`invariants violated:\n  ${list.join('\n  ')}`);
    },
    assertFinal() {
      const list = checker.finalViolations();
      if (list.length > 0) throw new Error(`invariants violated:\n  ${list.join('\n  ')}`);
    },
    handlerOutcomes() {
      const counts = { running: 0, cancelling: 0, result: 0, error: 0, cancelled: 0, abandoned: 0 };
      for (const a of actors) {
        if (a.kind !== 'handler') continue;
        const s = a.ref.getSnapshot() as HandlerSnapshot;
        if (s.status === 'done') counts[s.output.kind] += 1;
        else counts[s.value] += 1;
      }
      return counts;
    },
  };
  return checker;
}

/** Invariant 3 over one peer's timeline: at most one response per request; none after a forbidden client cancel. */
function checkResponses(p: TrackedPeer, dialect: Dialect, forbidsAnswerAfterClientCancel: boolean): string[] {
  const out: string[] = [];
  const open = new Map<string, number>();
  const cancelledByClient = new Set<string>();
  const cancel = dialect.cancelNotification;
  for (const entry of p.timeline) {
    for (const message of flatten(entry.message)) {
      if (!isObject(message)) continue;
      if (entry.dir === 'out') {
        if ('method' in message && 'id' in message) {
          const k = JSON.stringify(message['id']);
          open.set(k, (open.get(k) ?? 0) + 1);
          cancelledByClient.delete(k);
        } else if ('method' in message && cancel !== undefined && message['method'] === cancel.method) {
          const id = cancel.requestId(message['params']);
          if (id !== undefined && (open.get(JSON.stringify(id)) ?? 0) > 0) cancelledByClient.add(JSON.stringify(id));
        }
        continue;
      }
      if (!('result' in message || 'error' in message) || message['id'] === null || message['id'] === undefined) continue;
      const k = JSON.stringify(message['id']);
      const n = open.get(k) ?? 0;
      if (n === 0) out.push(`inv3: ${p.name}: a response for id ${k} that no open request had`);
      else open.set(k, n - 1);
      if (forbidsAnswerAfterClientCancel && cancelledByClient.has(k)) {
        out.push(`inv3: ${p.name}: a response for id ${k} after the client cancelled it (the dialect forbids it)`);
      }
    }
  }
  return out;
}

/**
 * Options of {@link createCheckedSupervisor}: the supervisor's options plus the checker's.
 *
 * @example
 * ```ts
 * createCheckedSupervisor({ methods, limits: { drainTimeoutMs: 100 }, expectSessionFailures: true });
 * ```
 */
export type CheckedSupervisorOptions = Omit<SupervisorOptions, 'clock' | 'inspect' | 'logger'> &
  Omit<InvariantCheckerOptions, 'clock' | 'dialect'> & { clock?: TestClock };

/**
 * A supervisor on a test clock, wired to a fresh checker: methods wrapped, `inspect` and `logger`
 * set, `connect()` ready.
 *
 * @example
 * ```ts
 * const { supervisor, checker, clock, connect } = createCheckedSupervisor({ methods: { ping: () => ({}) } });
 * const { peer, session } = connect();
 * ```
 */
export function createCheckedSupervisor(options: CheckedSupervisorOptions = {}): {
  supervisor: Supervisor;
  checker: InvariantChecker;
  clock: TestClock;
  connect: InvariantChecker['connect'];
} {
  const clock = options.clock ?? createTestClock();
  const { expectSessionFailures, ...rest } = options;
  const checker = createInvariantChecker({
    clock,
    ...(options.dialect === undefined ? {} : { dialect: options.dialect }),
    ...(expectSessionFailures === undefined ? {} : { expectSessionFailures }),
  });
  const supervisor = createSupervisor({
    ...rest,
    methods: checker.wrap(options.methods ?? {}),
    clock,
    inspect: checker.inspect,
    logger: checker.logger,
  });
  checker.watch(supervisor);
  return { supervisor, checker, clock, connect: (o) => checker.connect(o) };
}

/**
 * Settle the oldest waiting call of one of two controlled methods (`pick` even: the first, odd:
 * the second) with a result or an error; nothing when none waits. The property tests' "settle" step.
 *
 * @example
 * ```ts
 * settleWaiting(checker, { slow, obedient }, 2, true); // the oldest waiting `slow` call resolves 'ok'
 * ```
 */
export function settleWaiting(
  checker: InvariantChecker,
  methods: Record<string, ControlledMethod>,
  pick: number,
  ok: boolean,
): void {
  const names = Object.keys(methods);
  const name = names[pick % names.length]!;
  const method = methods[name]!;
  const waiting = checker.calls.find((call) => call.method === name && method.isWaiting(call.requestId, call.sessionId));
  if (waiting === undefined) return;
  if (ok) method.resolve(waiting.requestId, 'ok', waiting.sessionId);
  else method.reject(waiting.requestId, new Error('failed'), waiting.sessionId);
}

