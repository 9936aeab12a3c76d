// The system under test of the session fuzz suite: a live supervisor with a test clock over the memory
// transport, handlers whose completion the fast-check scheduler orders, and a client-side ledger that
// checks the six invariants of the design as the frames arrive and once more at the end.
import type fc from 'fast-check';
import type { ActorRefLike, InspectionEvent } from 'xstate';
import type { RequestId } from '../../machines/handler.js';
import type { CancelReason } from '../../machines/reasons.js';
import { JsonRpcError } from '../../src/jsonrpc/errors.js';
import { markInitialized, mcpDialect } from '../../src/mcp/dialect.js';
import { createTestClock, type TestClock } from '../../src/runtime/clock.js';
import { jsonRpcDialect, type Dialect } from '../../src/runtime/dialect.js';
import { CancelledError, type MethodTable, type RequestContext } from '../../src/runtime/methods.js';
import type { Session, SessionCloseInfo } from '../../src/runtime/session.js';
import { createSupervisor, type Supervisor } from '../../src/supervisor.js';
import { createMemoryTransportPair, type MemoryPeer, type MemoryTransport } from '../../src/transports/memory.js';

/** How one fuzzed session is configured. */
export interface RigConfig {
  dialect: 'jsonrpc' | 'mcp';
  requestTimeoutMs: number;
  maxInFlight: number;
}

/** Methods of the rig, by how they finish. */
export const RIG_METHODS = ['sync', 'throws', 'ok', 'fail', 'polite', 'listener', 'stubborn', 'notify', 'missing'] as const;
export type RigMethod = (typeof RIG_METHODS)[number];

export const LIMITS = { drainTimeoutMs: 100, cancelGraceMs: 50, maxMessageBytes: 512 } as const;

type LedgerState = 'pending' | 'answered' | 'cancelled' | 'lost';

interface Response {
  id: RequestId | null;
  result?: unknown;
  error?: { code: number; message: string };
}

interface HandlerCall {
  id: RequestId;
  ctx: RequestContext;
  /** What its `onCancel` listener was called with (`listener` calls only). */
  heard?: unknown[];
}

interface HandlerActorInfo {
  id: RequestId;
  done: number;
  ref: ActorRefLike;
}

/** A stable key for a request id (7 and '7' are different ids). */
export const keyOf = (id: RequestId | null): string => `${typeof id}:${String(id)}`;

/** One fuzzed session and everything the invariants need to know about it. */
export class SessionRig {
  readonly clock: TestClock = createTestClock();
  readonly supervisor: Supervisor;
  readonly transport: MemoryTransport;
  readonly peer: MemoryPeer;
  readonly session: Session;
  readonly dialect: Dialect;
  readonly violations: string[] = [];
  /** The client's ledger, by request id key. */
  readonly ledger = new Map<string, { id: RequestId; state: LedgerState }>();
  readonly responses: Response[] = [];
  readonly calls: HandlerCall[] = [];
  readonly handlerActors = new Map<ActorRefLike, HandlerActorInfo>();
  readonly cancelEvents = new Map<string, CancelReason>();
  /** Requests the server sent to the client (e.g. ping), not yet answered by the client. */
  readonly serverRequests: RequestId[] = [];
  readonly serverRequestOutcomes: ('pending' | 'settled')[] = [];
  vanished = false;
  inputEnded = false;
  drainStartedAt: number | undefined;
  finishedAt: number | undefined;
  closeInfo: SessionCloseInfo | undefined;
  private readonly onUnhandled = (error: unknown): void => {
    this.violations.push(`unhandled: ${String(error)}`);
  };

  constructor(
    readonly config: RigConfig,
    readonly scheduler: fc.Scheduler,
  ) {
    this.dialect = config.dialect === 'mcp' ? mcpDialect : jsonRpcDialect;
    this.supervisor = createSupervisor({
      clock: this.clock,
      dialect: this.dialect,
      methods: this.methods(),
      limits: { ...LIMITS, requestTimeoutMs: config.requestTimeoutMs, maxInFlight: config.maxInFlight },
      inspect: (event) => this.inspect(event),
    });
    this.supervisor.on('request.cancelled', ({ requestId, reason }) => {
      const key = keyOf(requestId);
      if (this.cancelEvents.has(key)) this.violations.push(`request ${key} cancelled twice`);
      this.cancelEvents.set(key, reason);
    });
    this.supervisor.on('session.closed', (info) => {
      if (this.finishedAt !== undefined) this.violations.push('session closed twice');
      this.finishedAt = this.clock.now();
      this.closeInfo = info;
    });
    this.supervisor.on('session.failed', ({ error }) => this.violations.push(`session failed: ${String(error)}`));
    process.on('unhandledRejection', this.onUnhandled);
    process.on('uncaughtException', this.onUnhandled);
    const { transport, peer } = createMemoryTransportPair();
    this.transport = transport;
    this.peer = peer;
    peer.onMessage((message) => this.onMessage(message));
    this.session = this.supervisor.attach(transport);
    if (config.dialect === 'mcp') {
      this.sendRequest('init', 'initialize');
      this.expect(this.ledger.get(keyOf('init'))?.state === 'answered', 'initialize was not answered');
    }
  }

  /** Remove the process listeners (always call, also after a failure). */
  dispose(): void {
    process.off('unhandledRejection', this.onUnhandled);
    process.off('uncaughtException', this.onUnhandled);
  }

  expect(condition: boolean, message: string): void {
    if (!condition) this.violations.push(message);
  }

  /** Whether a frame sent now reaches the session (input open, session not closed). */
  get delivers(): boolean {
    return !this.inputEnded && !this.vanished && this.peer.closeIntent === undefined && this.session.state !== 'closed';
  }

  pendingIds(): RequestId[] {
    return [...this.ledger.values()].filter((e) => e.state === 'pending').map((e) => e.id);
  }

  answeredIds(): RequestId[] {
    return [...this.ledger.values()].filter((e) => e.state === 'answered').map((e) => e.id);
  }

  /** Send a request; returns the responses that arrived synchronously. */
  sendRequest(id: RequestId, method: string): Response[] {
    const before = this.responses.length;
    if (this.delivers) this.ledger.set(keyOf(id), { id, state: 'pending' });
    this.peer.send({ jsonrpc: '2.0', id, method, params: { n: 1 } });
    return this.responses.slice(before);
  }

  /** Send a raw frame (or a malformed-frame report); returns the responses that arrived synchronously. */
  sendRaw(send: () => void): Response[] {
    const before = this.responses.length;
    send();
    return this.responses.slice(before);
  }

  /** The peer's cancel notification for `id`, in the dialect's words. */
  sendCancel(id: RequestId): Response[] {
    const entry = this.ledger.get(keyOf(id));
    if (entry?.state === 'pending' && this.delivers) entry.state = 'cancelled';
    const message =
      this.config.dialect === 'mcp'
        ? { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'fuzz' } }
        : { jsonrpc: '2.0', method: '$/cancelRequest', params: { id } };
    return this.sendRaw(() => this.peer.send(message));
  }

  vanish(): void {
    for (const entry of this.ledger.values()) if (entry.state === 'pending') entry.state = 'lost';
    this.vanished = true;
    this.peer.vanish('fuzz: peer vanished');
  }

  endInput(): void {
    this.inputEnded = true;
    this.peer.endInput();
  }

  /** The server asks the client something; the promise must settle exactly once. */
  serverPing(): void {
    const index = this.serverRequestOutcomes.push('pending') - 1;
    this.session.request('ping', undefined, { timeoutMs: 40 }).then(
      () => this.settleServerRequest(index),
      () => this.settleServerRequest(index),
    );
  }

  private settleServerRequest(index: number): void {
    if (this.serverRequestOutcomes[index] !== 'pending') this.violations.push(`server request ${index} settled twice`);
    this.serverRequestOutcomes[index] = 'settled';
  }

  // ---- observation -------------------------------------------------------------------------------

  private onMessage(raw: unknown): void {
    const message = raw as Record<string, unknown>;
    if ('method' in message) {
      if ('id' in message) this.serverRequests.push(message['id'] as RequestId);
      return;
    }
    const response = message as unknown as Response;
    this.responses.push(response);
    if (response.id === null) {
      if (response.error === undefined) this.violations.push('a result with id null');
      return;
    }
    const key = keyOf(response.id);
    const entry = this.ledger.get(key);
    if (entry === undefined) {
      this.violations.push(`response to an id never sent: ${key}`);
      return;
    }
    switch (entry.state) {
      case 'pending':
        entry.state = 'answered';
        return;
      case 'cancelled':
        if (this.dialect.responseOnCancel('client') === undefined) {
          this.violations.push(`response to ${key} after the client cancelled it`);
        } else if (response.error?.code !== -32800) {
          this.violations.push(`${key}: after a client cancel expected -32800, got ${JSON.stringify(response)}`);
        }
        entry.state = 'answered';
        return;
      case 'answered':
        this.violations.push(`second response to ${key}`);
        return;
      case 'lost':
        this.violations.push(`response to ${key} after the peer vanished`);
        return;
    }
  }

  private inspect(event: InspectionEvent): void {
    if (event.type !== '@xstate.snapshot') return;
    const snapshot = event.snapshot as { status: string; value?: unknown; context?: Record<string, unknown> };
    const context = snapshot.context;
    if (context === undefined) return;
    if ('requestId' in context) {
      const info = this.handlerActors.get(event.actorRef) ?? { id: context['requestId'] as RequestId, done: 0, ref: event.actorRef };
      this.handlerActors.set(event.actorRef, info);
      if (snapshot.status === 'done') info.done += 1;
    } else if ('sessionId' in context && snapshot.value === 'draining' && this.drainStartedAt === undefined) {
      this.drainStartedAt = this.clock.now();
    }
  }

  private methods(): MethodTable {
    const s = this.scheduler;
    const later = <T>(label: string, fn: () => T): Promise<T> => s.schedule(Promise.resolve(label), label).then(fn);
    const track = (ctx: RequestContext): void => {
      this.calls.push({ id: ctx.requestId, ctx });
    };
    return {
      initialize: (_p, ctx) => {
        track(ctx);
        markInitialized(ctx.session, '2025-06-18', { name: 'fuzz' });
        return { protocolVersion: '2025-06-18' };
      },
      sync: (_p, ctx) => {
        track(ctx);
        return { ok: true };
      },
      throws: (_p, ctx) => {
        track(ctx);
        throw new Error('handler threw');
      },
      ok: (_p, ctx) => {
        track(ctx);
        return later(`ok ${String(ctx.requestId)}`, () => ({ ok: true }));
      },
      fail: (_p, ctx) => {
        track(ctx);
        return later(`fail ${String(ctx.requestId)}`, () => {
          throw new JsonRpcError(-32050, 'failed on purpose');
        });
      },
      polite: (_p, ctx) => {
        track(ctx);
        const signal = ctx.signal;
        return new Promise((resolve, reject) => {
          signal.addEventListener(
            'abort',
            () => void later(`abort ${String(ctx.requestId)}`, () => reject(signal.reason as Error)),
            { once: true },
          );
          void later(`polite ${String(ctx.requestId)}`, () => resolve('polite'));
        });
      },
      // Listens with onCancel and never reads its signal (the signal is created lazily by the check).
      listener: (_p, ctx) => {
        const heard: unknown[] = [];
        this.calls.push({ id: ctx.requestId, ctx, heard });
        return new Promise((resolve, reject) => {
          ctx.onCancel((reason) => {
            heard.push(reason);
            void later(`heard ${String(ctx.requestId)}`, () => reject(reason));
          });
          void later(`listener ${String(ctx.requestId)}`, () => resolve('listened'));
        });
      },
      stubborn: (_p, ctx) => {
        track(ctx);
        return new Promise(() => {});
      },
      notify: (_p, ctx) => {
        track(ctx);
        return later(`notify ${String(ctx.requestId)}`, () => {
          ctx.session.notify('notifications/progress', { id: ctx.requestId });
          return 'notified';
        });
      },
    };
  }

  // ---- the end -----------------------------------------------------------------------------------

  /** Let every scheduled task and timer run until the session has finished (bounded). */
  async settle(): Promise<void> {
    const step = LIMITS.drainTimeoutMs + LIMITS.cancelGraceMs + this.config.requestTimeoutMs + 1;
    for (let round = 0; round < 20; round++) {
      await this.scheduler.waitAll();
      await new Promise((resolve) => setImmediate(resolve));
      if (this.finishedAt !== undefined && this.scheduler.count() === 0 && this.clock.pending === 0) return;
      this.clock.advance(step);
    }
  }

  /** The six invariants, checked once the session is over. Returns every violation found. */
  finalCheck(): string[] {
    const v = this.violations;
    const expect = (ok: boolean, message: string): void => {
      if (!ok) v.push(message);
    };
    // 5: the session is over, its actor and every handler actor stopped, no timer left.
    expect(this.finishedAt !== undefined, `session never finished (state ${this.session.state})`);
    expect(this.session.actor.getSnapshot().status === 'done', 'connection actor not done');
    expect(!this.supervisor.sessions().includes(this.session), 'session still listed by the supervisor');
    expect(this.clock.pending === 0, `${this.clock.pending} timer(s) left`);
    const stats = this.supervisor.stats();
    expect(stats.inFlight === 0 && stats.cancelling === 0, `stats not idle: ${stats.inFlight}/${stats.cancelling}`);
    expect(stats.sessionFailures === 0, 'a session failed');
    // 1: nothing written after the output closed.
    expect(this.transport.writesAfterClose === 0, `writesAfterClose=${this.transport.writesAfterClose}`);
    // 2: every handler settled exactly once; its signal aborted exactly when it was cancelled.
    expect(this.handlerActors.size === this.calls.length, `${this.handlerActors.size} handler actors for ${this.calls.length} calls`);
    for (const info of this.handlerActors.values()) {
      expect(info.done === 1, `handler ${keyOf(info.id)} settled ${info.done} times`);
      const snap = info.ref.getSnapshot() as { status: string; output?: { kind: string; reason?: CancelReason } };
      const reason = this.cancelEvents.get(keyOf(info.id));
      const kind = snap.output?.kind;
      if (reason === undefined) expect(kind === 'result' || kind === 'error', `${keyOf(info.id)} not cancelled but ${kind}`);
      else expect((kind === 'cancelled' || kind === 'abandoned') && snap.output?.reason === reason, `${keyOf(info.id)} cancelled (${reason}) but ${JSON.stringify(snap.output)}`);
    }
    for (const call of this.calls) {
      const reason = this.cancelEvents.get(keyOf(call.id));
      const signal = call.ctx.signal;
      expect(signal.aborted === (reason !== undefined), `${keyOf(call.id)}: aborted=${signal.aborted}, cancel=${reason}`);
      if (call.heard !== undefined) {
        const heard = call.heard;
        expect(heard.length === (reason !== undefined ? 1 : 0), `${keyOf(call.id)}: onCancel heard ${heard.length} times, cancel=${reason}`);
        if (heard.length > 0) expect(heard[0] === signal.reason, `${keyOf(call.id)}: onCancel and signal.reason differ`);
      }
      if (reason !== undefined) {
        const why = signal.reason as unknown;
        expect(why instanceof CancelledError && why.reason === reason, `${keyOf(call.id)}: abort reason ${String(why)}`);
      }
    }
    // 3: every request delivered got one answer, unless the output went away or the dialect forbids it.
    for (const entry of this.ledger.values()) {
      if (entry.state === 'pending') v.push(`request ${keyOf(entry.id)} never answered`);
      if (entry.state === 'cancelled' && this.dialect.responseOnCancel('client') !== undefined) {
        v.push(`request ${keyOf(entry.id)} cancelled by the client but never answered`);
      }
    }
    expect(this.serverRequestOutcomes.every((o) => o === 'settled'), 'a server-to-client request never settled');
    // 6: a drain ends within drainTimeoutMs + cancelGraceMs.
    if (this.drainStartedAt !== undefined && this.finishedAt !== undefined) {
      const took = this.finishedAt - this.drainStartedAt;
      expect(took <= LIMITS.drainTimeoutMs + LIMITS.cancelGraceMs, `drain took ${took} ms`);
    }
    return v;
  }
}
