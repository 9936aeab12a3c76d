import type { AnyActorRef, InspectionEvent } from 'xstate';
import { connectionPhase, connectionSessionId as sessionIdOf } from '../../../machines/connection.js';
import type { Supervisor, SupervisorStats } from '../../supervisor.js';

/**
 * One handler actor as the live view shows it.
 *
 * @example
 * ```ts
 * const h: HandlerView = { requestId: 1, method: 'slow', state: 'cancelling', reason: 'client', settled: null };
 * ```
 */
export interface HandlerView {
  requestId: string | number;
  method: string;
  state: 'running' | 'cancelling' | 'done';
  reason: string | null;
  settled: string | null;
}

/**
 * One session (connection actor) as the live view shows it.
 *
 * @example
 * ```ts
 * const s: SessionView = { id: 's1', transport: 'ws', state: 'connected', closeReason: null, handlers: [], hiddenHandlers: 0 };
 * ```
 */
export interface SessionView {
  id: string;
  transport: string;
  state: 'connected' | 'draining' | 'closed';
  closeReason: string | null;
  /** Live handlers first, then the most recently settled ones. */
  handlers: HandlerView[];
  /** Handlers left out of `handlers` to keep the view small. */
  hiddenHandlers: number;
}

/**
 * Everything the page renders.
 *
 * @example
 * ```ts
 * const view: DashboardView = tracker.view();
 * view.sessions.length;
 * ```
 */
export interface DashboardView {
  supervisor: { state: string };
  stats: SupervisorStats;
  sessions: SessionView[];
  /** Sessions left out of `sessions` to keep the view small. */
  hiddenSessions: number;
  at: number;
}

interface SessionEntry {
  id: string;
  transport: string;
  state: SessionView['state'];
  closeReason: string | null;
  live: Map<AnyActorRef, HandlerView>;
  settled: HandlerView[];
}

/**
 * Limits of the tracked view.
 *
 * @example
 * ```ts
 * const limits: TrackerLimits = { closedSessions: 20, settledHandlers: 20, liveHandlers: 200 };
 * ```
 */
export interface TrackerLimits {
  /** Closed sessions kept on view. */
  closedSessions: number;
  /** Settled handlers kept per session. */
  settledHandlers: number;
  /** Live handlers listed per session (the rest are counted). */
  liveHandlers: number;
  /** Sessions listed (open ones first; the rest are counted). */
  sessions: number;
}

/**
 * Follows a supervisor's actors through `supervisor.inspect` and its events, keeping a
 * small view of sessions and their handler actors. `onChange` is called after every change.
 *
 * @example
 * ```ts
 * const tracker = new DashboardTracker(supervisor, () => console.log(tracker.view()));
 * tracker.stop();
 * ```
 */
export class DashboardTracker {
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly closedOrder: string[] = [];
  private readonly detach: () => void;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly supervisor: Supervisor,
    private readonly onChange: () => void,
    private readonly limits: TrackerLimits = { closedSessions: 20, settledHandlers: 20, liveHandlers: 100, sessions: 100 },
  ) {
    for (const session of supervisor.sessions()) {
      this.entry(session.id, session.transportKind).state = session.state;
    }
    this.detach = supervisor.inspect((event: InspectionEvent) => this.inspect(event));
    this.offs.push(
      supervisor.on('session.opened', ({ sessionId, transport }) => {
        this.entry(sessionId, transport).transport = transport;
        this.onChange();
      }),
      supervisor.on('session.closed', ({ sessionId, reason }) => {
        const entry = this.sessions.get(sessionId);
        if (entry === undefined) return;
        entry.state = 'closed';
        entry.closeReason = reason;
        this.closedOrder.push(sessionId);
        while (this.closedOrder.length > this.limits.closedSessions) this.sessions.delete(this.closedOrder.shift()!);
        this.onChange();
      }),
    );
  }

  private entry(id: string, transport = '?'): SessionEntry {
    let entry = this.sessions.get(id);
    if (entry === undefined) {
      entry = { id, transport, state: 'connected', closeReason: null, live: new Map(), settled: [] };
      this.sessions.set(id, entry);
    }
    return entry;
  }

  // Connection actors all have the id `connection`: a session's id is in their context.
  private inspect(event: InspectionEvent): void {
    if (event.type !== '@xstate.snapshot') return;
    const ref = event.actorRef as AnyActorRef;
    const parent = ref._parent;
    if (parent === undefined) {
      if (ref === this.supervisor.actor) this.onChange();
      return;
    }
    const snapshot = event.snapshot as { value?: unknown; context?: Record<string, unknown> };
    if (parent === this.supervisor.actor) {
      const id = snapshot.context?.sessionId;
      if (typeof id !== 'string') return;
      const entry = this.entry(id);
      entry.state = connectionPhase(snapshot);
      const closeReason = snapshot.context?.closeReason;
      if (typeof closeReason === 'string') entry.closeReason = closeReason;
      this.onChange();
      return;
    }
    if (!ref.id.startsWith('request:') || parent._parent !== this.supervisor.actor) return;
    const entry = this.sessions.get(sessionIdOf(parent));
    if (entry === undefined) return;
    const context = snapshot.context ?? {};
    const view: HandlerView = {
      requestId: context.requestId as string | number,
      method: String(context.method),
      state: snapshot.value as HandlerView['state'],
      reason: (context.reason as string | null) ?? null,
      settled: (context.settled as string | null) ?? null,
    };
    if (view.state === 'done') {
      entry.live.delete(ref);
      entry.settled.push(view);
      if (entry.settled.length > this.limits.settledHandlers) entry.settled.shift();
    } else {
      entry.live.set(ref, view);
    }
    this.onChange();
  }

  /** The current view (plain JSON). */
  view(): DashboardView {
    const sessions: SessionView[] = [];
    const open = [...this.sessions.values()].filter((e) => e.state !== 'closed');
    const closed = [...this.sessions.values()].filter((e) => e.state === 'closed');
    const listed = [...open, ...closed].slice(0, this.limits.sessions);
    for (const entry of listed) {
      const live = [...entry.live.values()];
      const shown = live.slice(0, this.limits.liveHandlers);
      sessions.push({
        id: entry.id,
        transport: entry.transport,
        state: entry.state,
        closeReason: entry.closeReason,
        handlers: [...shown, ...[...entry.settled].reverse()],
        hiddenHandlers: live.length - shown.length,
      });
    }
    return {
      supervisor: { state: this.supervisor.state },
      stats: this.supervisor.stats(),
      sessions,
      hiddenSessions: this.sessions.size - listed.length,
      at: Date.now(),
    };
  }

  stop(): void {
    this.detach();
    for (const off of this.offs.splice(0)) off();
  }
}
