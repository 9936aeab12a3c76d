import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { HandlerContext } from '../../machines/handler.js';
import type { Supervisor } from '../supervisor.js';

/**
 * What a watcher knows about one handler actor.
 *
 * @example
 * ```ts
 * const h = watcher.handler(session.actor, 1);
 * h?.value; // 'running' | 'cancelling' | 'done'
 * ```
 */
export interface WatchedHandler {
  readonly ref: AnyActorRef;
  /** The handler's state now. */
  readonly value: 'running' | 'cancelling' | 'done';
  readonly context: HandlerContext;
  /** How many times it became `done` (invariant 2: exactly once, in the end). */
  readonly settledCount: number;
}

/**
 * Watches every handler actor of a supervisor through the actor system's inspection, so a test can
 * read a handler's state without reaching into the runtime.
 *
 * @example
 * ```ts
 * const watcher = watchHandlers(supervisor);
 * // … drive the session …
 * watcher.handler(session.actor, 1)?.value; // 'done'
 * watcher.stop();
 * ```
 */
export interface HandlerWatcher {
  /** The handler actor of `requestId` under the connection actor `parent`, once created. */
  handler(parent: AnyActorRef, requestId: string | number): WatchedHandler | undefined;
  /** Every handler seen so far. */
  all(): WatchedHandler[];
  stop(): void;
}

interface Entry {
  ref: AnyActorRef;
  settledCount: number;
  wasDone: boolean;
}

/**
 * Start a {@link HandlerWatcher} on `supervisor` (an extra inspection observer, `supervisor.inspect`).
 *
 * @example
 * ```ts
 * const watcher = watchHandlers(supervisor);
 * ```
 */
export function watchHandlers(supervisor: Supervisor): HandlerWatcher {
  const entries = new Map<AnyActorRef, Entry>();
  const isHandler = (ref: AnyActorRef): boolean => ref.id.startsWith('request:');
  const track = (ref: AnyActorRef): Entry => {
    let entry = entries.get(ref);
    if (entry === undefined) {
      entry = { ref, settledCount: 0, wasDone: false };
      entries.set(ref, entry);
    }
    return entry;
  };
  const detach = supervisor.inspect((event: InspectionEvent) => {
    const ref = event.actorRef as AnyActorRef;
    if (!isHandler(ref)) return;
    const entry = track(ref);
    if (event.type === '@xstate.snapshot') {
      const done = (event.snapshot as { status?: string }).status === 'done';
      if (done && !entry.wasDone) entry.settledCount += 1;
      entry.wasDone = done;
    }
  });
  const view = (entry: Entry): WatchedHandler => {
    const snapshot = entry.ref.getSnapshot() as { value: WatchedHandler['value']; context: HandlerContext };
    return { ref: entry.ref, value: snapshot.value, context: snapshot.context, settledCount: entry.settledCount };
  };
  return {
    handler(parent, requestId) {
      const id = `request:${String(requestId)}`;
      for (const entry of entries.values()) {
        if (entry.ref.id === id && entry.ref._parent === parent) return view(entry);
      }
      return undefined;
    },
    all: () => [...entries.values()].map(view),
    stop: detach,
  };
}
