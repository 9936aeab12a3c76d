import type { Session } from '../runtime/session.js';
import type { Supervisor } from '../supervisor.js';
import { createTestClock, type TestClock } from '../runtime/clock.js';
import { connectMemoryClient, type SessionTestClient } from './client.js';
import { createTestGate, type TestGate } from './gate.js';
import { watchHandlers, type HandlerWatcher, type WatchedHandler } from './watch.js';
import type { RequestId } from '../../machines/handler.js';

/**
 * What the session test model hands the server factory: build the server on this clock and let
 * its slow method wait on this gate.
 *
 * @example
 * ```ts
 * const factory: SessionServerFactory = ({ clock, gate }) => ({
 *   supervisor: createSupervisor({ clock, methods: { slow: async (_p, ctx) => { await gate.hold(ctx); return 'ok'; } } }),
 *   slowMethod: 'slow',
 * });
 * ```
 */
export interface SessionTestServerContext {
  /** A manual clock: pass it to `createSupervisor({ clock })` so the model can move time. */
  readonly clock: TestClock;
  /** The slow method must `await gate.hold(ctx)` and let the gate's rejection propagate. */
  readonly gate: TestGate;
}

/**
 * A server under test, as the factory returns it.
 *
 * @example
 * ```ts
 * const server: SessionTestServer = { supervisor, slowMethod: 'slow', slowParams: { steps: 3 } };
 * ```
 */
export interface SessionTestServer {
  readonly supervisor: Supervisor;
  /** A method that waits on the gate: it settles only when the test releases it. */
  readonly slowMethod: string;
  /** Params sent with the slow request. */
  readonly slowParams?: unknown;
  /** The peer's cancel notification for a request id. Default: `$/cancelRequest { id }` (the JSON-RPC dialect). */
  readonly cancelNotification?: (requestId: RequestId) => unknown;
  /**
   * Messages the client sends first, in order (e.g. MCP `initialize` and `notifications/initialized`).
   * Each request among them must be answered with a result before the next message goes out.
   */
  readonly handshake?: readonly unknown[];
  /** Open one client connection to the server. Default: an in-memory pair attached to `supervisor`. */
  readonly connect?: () => Promise<SessionTestClient> | SessionTestClient;
  /** Release whatever the factory started (a listening socket, …). Called after every path. */
  readonly dispose?: () => Promise<void> | void;
}

/**
 * Builds a fresh server for one path. Called once per path, so no state leaks between paths.
 *
 * @example
 * ```ts
 * const factory: SessionServerFactory = async ({ clock, gate }) => myServer({ clock, gate });
 * ```
 */
export type SessionServerFactory = (context: SessionTestServerContext) => SessionTestServer | Promise<SessionTestServer>;

/**
 * A model check that failed: the server's state or an invariant differs from the model.
 *
 * @example
 * ```ts
 * await path.run().catch((e) => e instanceof ModelCheckError);
 * ```
 */
export class ModelCheckError extends Error {
  readonly code = 'ERR_MODEL_CHECK';

  constructor(message: string) {
    super(message);
    this.name = 'ModelCheckError';
  }
}

/**
 * The id of the slow request every path opens (probes use `probe-N`).
 *
 * @example
 * ```ts
 * gate.release(session.id, SLOW_ID, 'result');
 * ```
 */
export const SLOW_ID = 1;

const tick = (n: number): Promise<void> =>
  new Promise((resolve) => (n < 20 ? setImmediate(resolve) : setTimeout(resolve, 2)));

/**
 * One running server + client + session for one path, with the checks every path shares. Used by
 * `createSessionTestModel`; not part of the public entry.
 *
 * @example
 * ```ts
 * const h = new Harness('my path', 5000);
 * await h.open(factory);
 * await h.close();
 * ```
 */
export class Harness {
  readonly clock = createTestClock();
  readonly gate = createTestGate();
  server!: SessionTestServer;
  client!: SessionTestClient;
  session!: Session;
  watcher!: HandlerWatcher;
  private probes = 0;

  constructor(
    readonly where: string,
    private readonly settleTimeoutMs: number,
  ) {}

  get supervisor(): Supervisor {
    return this.server.supervisor;
  }

  async open(factory: SessionServerFactory): Promise<void> {
    this.server = await factory({ clock: this.clock, gate: this.gate });
    this.watcher = watchHandlers(this.supervisor);
    const opened: string[] = [];
    const off = this.supervisor.on('session.opened', (event) => opened.push(event.sessionId));
    try {
      this.client = await (this.server.connect ?? (() => connectMemoryClient(this.supervisor)))();
      await this.eventually('a session is opened for the client', () => (opened.length > 0 ? undefined : 'no session yet'));
    } finally {
      off();
    }
    const session = this.supervisor.sessions().find((s) => s.id === opened[0]);
    if (session === undefined) throw new ModelCheckError(`${this.where}: session ${String(opened[0])} closed at once`);
    this.session = session;
    for (const message of this.server.handshake ?? []) await this.handshake(message);
    this.client.send({ jsonrpc: '2.0', id: SLOW_ID, method: this.server.slowMethod, params: this.server.slowParams });
    await this.eventually(`the slow method '${this.server.slowMethod}' waits on the gate`, () =>
      this.gate.isHeld(this.session.id, SLOW_ID) ? undefined : `not held; the client got ${JSON.stringify(this.client.received)}`,
    );
  }

  private async handshake(message: unknown): Promise<void> {
    this.client.send(message);
    const id = typeof message === 'object' && message !== null && 'method' in message ? (message as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') return;
    if (id === SLOW_ID) throw new ModelCheckError(`${this.where}: handshake request id ${SLOW_ID} is the slow request's id; use another`);
    await this.eventually(`the handshake request ${JSON.stringify(id)} answered with a result`, () => {
      const answer = this.responsesFor(id)[0];
      if (answer === undefined) return 'no answer yet';
      return 'result' in answer ? undefined : `answered ${JSON.stringify(answer)}`;
    });
  }

  /** Poll `check` (returns a problem, or `undefined` when satisfied) until it passes or the hang guard fires. */
  async eventually(what: string, check: () => string | undefined): Promise<void> {
    const deadline = Date.now() + this.settleTimeoutMs;
    let problem = check();
    for (let n = 0; problem !== undefined; n++) {
      if (Date.now() > deadline) throw new ModelCheckError(`${this.where}: expected ${what}; ${problem}`);
      await tick(n);
      problem = check();
    }
    this.checkInvariants();
  }

  handler(): WatchedHandler | undefined {
    return this.watcher.handler(this.session.actor, SLOW_ID);
  }

  /** Invariant 2, second half: the slow request's signal is aborted exactly when it was cancelled. */
  checkSignal(cancelled: boolean): void {
    const signal = this.gate.signalOf(this.session.id, SLOW_ID);
    if (signal === undefined) throw new ModelCheckError(`${this.where}: the slow method did not pass its context (with its signal) to gate.hold`);
    if (signal.aborted !== cancelled) {
      throw new ModelCheckError(`${this.where}: invariant 2 broken: the signal is ${signal.aborted ? '' : 'not '}aborted but the request was ${cancelled ? '' : 'not '}cancelled`);
    }
  }

  responsesFor(id: RequestId): Array<Record<string, unknown>> {
    return this.client.received.filter(
      (m): m is Record<string, unknown> => typeof m === 'object' && m !== null && (m as { id?: unknown }).id === id,
    );
  }

  /** Invariants 1 and 3, checked after every step. */
  checkInvariants(): void {
    const writes = this.client.writesAfterClose ?? 0;
    if (writes !== 0) throw new ModelCheckError(`${this.where}: invariant 1 broken: ${writes} frame(s) written after the output closed`);
    const seen = new Set<unknown>();
    for (const message of this.client.received) {
      if (typeof message !== 'object' || message === null || !('id' in message) || 'method' in message) continue;
      const id = (message as { id: unknown }).id;
      if (id === null) continue;
      if (seen.has(id)) throw new ModelCheckError(`${this.where}: invariant 3 broken: more than one response for id ${JSON.stringify(id)}`);
      seen.add(id);
    }
  }

  /** Send a request while draining and expect it refused with an error (invariant 6). */
  async probeRefused(): Promise<void> {
    const id = `probe-${++this.probes}`;
    this.client.send({ jsonrpc: '2.0', id, method: this.server.slowMethod, params: this.server.slowParams });
    await this.eventually(`request ${id} refused while draining`, () => {
      const answer = this.responsesFor(id)[0];
      if (answer === undefined) return 'no answer yet';
      return 'error' in answer ? undefined : `answered ${JSON.stringify(answer)}`;
    });
    if (this.gate.isHeld(this.session.id, id)) throw new ModelCheckError(`${this.where}: a draining session ran request ${id}`);
  }

  /** Finish the path: settle everything, close, and check invariants 2 and 5. */
  async close(): Promise<void> {
    if ((this.server as SessionTestServer | undefined) === undefined) return;
    try {
      if ((this.session as Session | undefined) === undefined) return;
      this.gate.releaseAll('result');
      if (this.session.state !== 'closed') this.session.close('shutdown');
      await this.eventually('the session to finish', () => (this.supervisor.sessions().includes(this.session) ? 'still open' : undefined));
      const handler = this.handler();
      if (handler === undefined) throw new ModelCheckError(`${this.where}: no handler actor was seen for request ${SLOW_ID}`);
      if (handler.settledCount !== 1) {
        throw new ModelCheckError(`${this.where}: invariant 2 broken: the handler settled ${handler.settledCount} times`);
      }
      if (this.session.actor.getSnapshot().status !== 'done') {
        throw new ModelCheckError(`${this.where}: invariant 5 broken: the connection actor is ${this.session.actor.getSnapshot().status}`);
      }
      if (this.clock.pending !== 0) throw new ModelCheckError(`${this.where}: invariant 5 broken: ${this.clock.pending} timer(s) left after the close`);
    } finally {
      await this.supervisor.close();
      (this.watcher as HandlerWatcher | undefined)?.stop();
      await (this.client as SessionTestClient | undefined)?.dispose?.();
      await this.server.dispose?.();
    }
  }
}
