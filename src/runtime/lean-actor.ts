import { toObserver, type AnyActorRef, type InteropSubscribable, type Observer, type Readable, type Subscription } from 'xstate';

const NO_SUBSCRIPTION: Subscription = { unsubscribe: () => {} };

/** One observer's subscription to a lean actor (an object, not a closure per subscribe). */
class LeanSubscription<S extends LeanSnapshot> implements Subscription {
  constructor(
    private readonly actor: LeanActorRef<S>,
    private readonly observer: Observer<S>,
  ) {}

  unsubscribe(): void {
    this.actor.unsubscribeObserver(this.observer);
  }
}

/** What a lean actor's snapshot has in common with an xstate snapshot. */
interface LeanSnapshot {
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  readonly error?: unknown;
}

/**
 * The `ActorRef` plumbing the runtime's lean actors share (the handler actor, the connection actor
 * of a one-exchange session): the snapshot, observers (`next` on each new snapshot, `complete` once
 * done, `error` once failed), `select`, the interop observable and `toJSON`. Subclasses run their
 * logic and call {@link publish} with each new snapshot. xstate's public API only.
 *
 * @example
 * ```ts
 * class MyActor extends LeanActorRef<MySnapshot> {
 *   send(event: MyEvent): void {
 *     this.publish(step(this.snapshot, event));
 *   }
 * }
 * ```
 */
export abstract class LeanActorRef<S extends LeanSnapshot> {
  abstract readonly id: string;
  abstract readonly sessionId: string;
  abstract readonly _parent: AnyActorRef;
  protected abstract snapshot: S;
  /** One observer held directly (the common case: the runtime's own), more in a Set. */
  private observers: Observer<S> | Set<Observer<S>> | undefined = undefined;

  getSnapshot(): S {
    return this.snapshot;
  }

  getPersistedSnapshot(): S {
    return this.snapshot;
  }

  /** A lean actor is stopped by its runtime (it reaches its final state), never from outside. */
  stop(): void {}

  /** Take `next` as the snapshot and tell the observers (`complete` too once it is done). */
  protected publish(next: S): void {
    this.snapshot = next;
    const observers = this.observers;
    if (observers === undefined) return;
    if (!(observers instanceof Set)) {
      observers.next?.(next);
      if (next.status === 'done' && this.observers === observers) {
        this.observers = undefined;
        observers.complete?.();
      }
      return;
    }
    for (const observer of [...observers]) observer.next?.(next);
    if (next.status === 'done') {
      for (const observer of [...observers]) observer.complete?.();
      this.observers = undefined;
    }
  }

  /** Take `failed` (status `error`) as the snapshot and tell the observers. */
  protected publishError(failed: S): void {
    this.snapshot = failed;
    const observers = this.observers;
    this.observers = undefined;
    if (observers === undefined) return;
    if (!(observers instanceof Set)) observers.error?.(failed.error);
    else for (const observer of [...observers]) observer.error?.(failed.error);
  }

  subscribe(nextOrObserver?: Observer<S> | ((snapshot: S) => void), errorListener?: (error: unknown) => void, completeListener?: () => void): Subscription {
    // An observer object is used as it is (the runtime's own, one per actor); functions are wrapped.
    const observer = typeof nextOrObserver === 'object' ? nextOrObserver : toObserver(nextOrObserver, errorListener, completeListener);
    if (this.snapshot.status !== 'active') {
      if (this.snapshot.status === 'error') observer.error?.(this.snapshot.error);
      else observer.complete?.();
      return NO_SUBSCRIPTION;
    }
    const held = this.observers;
    if (held === undefined) this.observers = observer;
    else if (held instanceof Set) held.add(observer);
    else this.observers = new Set([held, observer]);
    return new LeanSubscription(this, observer);
  }

  /** Drop `observer` (what a subscription's `unsubscribe` does). */
  unsubscribeObserver(observer: Observer<S>): void {
    const held = this.observers;
    if (held === observer) this.observers = undefined;
    else if (held instanceof Set) held.delete(observer);
  }

  /** Lean logics emit nothing. */
  on(): Subscription {
    return NO_SUBSCRIPTION;
  }

  select<T>(selector: (snapshot: S) => T, equalityFn: (a: T, b: T) => boolean = Object.is): Readable<T> {
    return {
      get: () => selector(this.snapshot),
      subscribe: (observerOrFn) => {
        const observer = toObserver(observerOrFn);
        let previous = selector(this.snapshot);
        return this.subscribe((snapshot) => {
          const selected = selector(snapshot);
          if (!equalityFn(previous, selected)) {
            previous = selected;
            observer.next?.(selected);
          }
        });
      },
    };
  }

  /** What `JSON.stringify` shows of an actor reference: its ids. */
  toJSON(): { id: string; sessionId: string } {
    return { id: this.id, sessionId: this.sessionId };
  }

  declare [Symbol.observable]: () => InteropSubscribable<S>;
}

// Interop observables are keyed by `Symbol.observable` where it exists, '@@observable' elsewhere.
const OBSERVABLE_KEY: PropertyKey = (Symbol as { observable?: symbol }).observable ?? '@@observable';
Object.defineProperty(LeanActorRef.prototype, OBSERVABLE_KEY, {
  value(this: LeanActorRef<LeanSnapshot>) {
    return this;
  },
});
