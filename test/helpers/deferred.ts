/**
 * Handlers a test settles by hand: each call of a controlled method waits on a deferred the test
 * resolves or rejects, so every race (answer before close, answer after cancel, …) is driven, not timed.
 *
 * @example
 * ```ts
 * const slow = controlledMethod();
 * const supervisor = createSupervisor({ methods: { slow: slow.handler } });
 * // … a request for `slow` arrives …
 * slow.resolve(1, { ok: true });
 * await flush();
 * ```
 */
import type { RequestId } from '../../machines/handler.js';
import type { RequestContext } from '../../src/runtime/methods.js';

/**
 * A promise with its resolve and reject.
 *
 * @example
 * ```ts
 * const d = createDeferred<number>();
 * d.resolve(1);
 * await d.promise; // 1
 * ```
 */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Create a {@link Deferred}.
 *
 * @example
 * ```ts
 * const d = createDeferred<void>();
 * ```
 */
export function createDeferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Let every pending promise callback run (a macrotask turn).
 *
 * @example
 * ```ts
 * d.resolve(1);
 * await flush();
 * ```
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A method whose calls wait for the test.
 *
 * @example
 * ```ts
 * const m = controlledMethod({ obeySignal: true }); // rejects with signal.reason when cancelled
 * ```
 */
export interface ControlledMethod {
  readonly handler: (params: unknown, ctx: RequestContext) => Promise<unknown>;
  /** How many times the handler was called. */
  readonly callCount: number;
  /** How many calls are still waiting. */
  readonly waiting: number;
  /** The context of the waiting call with this id (and session, when several sessions use the id). */
  context(id: RequestId, sessionId?: string): RequestContext;
  /** Whether a call with this id (and session) is waiting. */
  isWaiting(id: RequestId, sessionId?: string): boolean;
  resolve(id: RequestId, value?: unknown, sessionId?: string): void;
  reject(id: RequestId, error: unknown, sessionId?: string): void;
  /** Resolve every waiting call. */
  resolveAll(value?: unknown): void;
}

interface Waiting {
  readonly ctx: RequestContext;
  readonly deferred: Deferred<unknown>;
}

/**
 * Create a {@link ControlledMethod}. With `obeySignal`, a call rejects with `signal.reason` as soon as
 * it is cancelled; without, it ignores its signal (and is abandoned after `cancelGraceMs`).
 *
 * @example
 * ```ts
 * const slow = controlledMethod();
 * ```
 */
export function controlledMethod(options: { obeySignal?: boolean } = {}): ControlledMethod {
  const waiting: Waiting[] = [];
  let callCount = 0;
  const find = (id: RequestId, sessionId: string | undefined): Waiting[] =>
    waiting.filter((w) => w.ctx.requestId === id && (sessionId === undefined || w.ctx.session.id === sessionId));
  const take = (id: RequestId, sessionId: string | undefined): Deferred<unknown> => {
    const found = find(id, sessionId);
    if (found.length === 0 || (found.length > 1 && sessionId === undefined)) {
      throw new Error(`${found.length} waiting calls for id ${String(id)}; name the session`);
    }
    // One session may hold two calls with one id: a cancelled call still in its grace and a new
    // request that reused the id. The oldest goes first, as the invariant checker's calls list it.
    waiting.splice(waiting.indexOf(found[0]!), 1);
    return found[0]!.deferred;
  };
  return {
    get callCount() {
      return callCount;
    },
    get waiting() {
      return waiting.length;
    },
    context(id, sessionId) {
      const found = find(id, sessionId);
      if (found.length !== 1) throw new Error(`${found.length} waiting calls for id ${String(id)}`);
      return found[0]!.ctx;
    },
    isWaiting: (id, sessionId) => find(id, sessionId).length > 0,
    handler(_params, ctx) {
      callCount += 1;
      const entry: Waiting = { ctx, deferred: createDeferred<unknown>() };
      waiting.push(entry);
      if (options.obeySignal === true) {
        const onAbort = (): void => {
          const i = waiting.indexOf(entry);
          if (i < 0) return;
          waiting.splice(i, 1);
          entry.deferred.reject(ctx.signal.reason);
        };
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        const remove = (): void => ctx.signal.removeEventListener('abort', onAbort);
        entry.deferred.promise.then(remove, remove);
      }
      return entry.deferred.promise;
    },
    resolve(id, value = null, sessionId) {
      take(id, sessionId).resolve(value);
    },
    reject(id, error, sessionId) {
      take(id, sessionId).reject(error);
    },
    resolveAll(value = null) {
      for (const w of waiting.splice(0)) w.deferred.resolve(value);
    },
  };
}
