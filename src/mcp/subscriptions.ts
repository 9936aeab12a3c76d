import type { RequestId } from '../../machines/handler.js';
import type { RequestContext, SessionHandle } from '../runtime/methods.js';
import { MetaKey } from './modern.js';

/**
 * The change notifications a client can listen to (`subscriptions/listen` `notifications` filter).
 *
 * @example
 * ```ts
 * const filter: NotificationFilter = { toolsListChanged: true, resourceSubscriptions: ['test://a'] };
 * ```
 */
export interface NotificationFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

/** A list whose change can be announced. */
export type ListKind = 'tools' | 'prompts' | 'resources';

const FILTER_KEY: Record<ListKind, 'toolsListChanged' | 'promptsListChanged' | 'resourcesListChanged'> = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
};

interface Listener {
  readonly session: SessionHandle;
  readonly id: RequestId;
  readonly filter: NotificationFilter;
  end(): void;
}

/** What the server can deliver (its capabilities decide what an acknowledgment may grant). */
export interface SubscriptionSupport {
  tools: boolean;
  prompts: boolean;
  resources: boolean;
  resourceSubscriptions: boolean;
}

/**
 * Server-wide change notifications for both eras: modern `subscriptions/listen` streams (each a
 * long-lived request, tagged with its subscription id) and legacy sessions (`list_changed` to every
 * initialized session, `resources/updated` to those that called `resources/subscribe`).
 *
 * @example
 * ```ts
 * const server = createMcpServer({ ... });
 * server.mcp.changed('tools'); // notifies every listener that asked for toolsListChanged
 * ```
 */
export class SubscriptionHub {
  private readonly listeners = new Set<Listener>();
  private readonly legacy = new Map<SessionHandle, Set<string>>();

  constructor(private readonly support: SubscriptionSupport) {}

  /** Open listens right now. */
  get size(): number {
    return this.listeners.size;
  }

  /**
   * The `subscriptions/listen` handler: acknowledges with the granted filter (first message), then
   * holds the request open until the client cancels it (stream close or `notifications/cancelled`)
   * or the server ends it ({@link endSession}, {@link endAll}) with a completion result.
   */
  listen(params: unknown, ctx: RequestContext): Promise<Record<string, unknown>> {
    const asked = readFilter(params);
    const granted: NotificationFilter = {};
    if (asked.toolsListChanged === true && this.support.tools) granted.toolsListChanged = true;
    if (asked.promptsListChanged === true && this.support.prompts) granted.promptsListChanged = true;
    if (asked.resourcesListChanged === true && this.support.resources) granted.resourcesListChanged = true;
    if (asked.resourceSubscriptions !== undefined && this.support.resourceSubscriptions) {
      granted.resourceSubscriptions = asked.resourceSubscriptions;
    }
    const id = ctx.requestId;
    const meta = { [MetaKey.subscriptionId]: id };
    return new Promise((resolve, reject) => {
      const listener: Listener = {
        session: ctx.session,
        id,
        filter: granted,
        end: () => {
          this.listeners.delete(listener);
          removeCancel();
          resolve({ _meta: meta });
        },
      };
      const removeCancel = ctx.onCancel((reason) => {
        this.listeners.delete(listener);
        reject(reason);
      });
      if (ctx.cancelled) return;
      this.listeners.add(listener);
      ctx.session.notify('notifications/subscriptions/acknowledged', { _meta: meta, notifications: granted });
    });
  }

  /** Announce that a list changed: modern listeners that asked for it, and every legacy session. */
  changed(kind: ListKind, legacySessions: Iterable<SessionHandle> = []): void {
    const key = FILTER_KEY[kind];
    const method = `notifications/${kind}/list_changed`;
    for (const listener of [...this.listeners]) {
      if (listener.filter[key] === true) listener.session.notify(method, { _meta: { [MetaKey.subscriptionId]: listener.id } });
    }
    for (const session of legacySessions) session.notify(method);
  }

  /** Announce that a resource changed: listeners subscribed to its URI, and legacy subscribers. */
  updated(uri: string): void {
    for (const listener of [...this.listeners]) {
      if (listener.filter.resourceSubscriptions?.includes(uri) === true) {
        listener.session.notify('notifications/resources/updated', { uri, _meta: { [MetaKey.subscriptionId]: listener.id } });
      }
    }
    for (const [session, uris] of [...this.legacy]) {
      if (session.state === 'closed') this.legacy.delete(session);
      else if (uris.has(uri)) session.notify('notifications/resources/updated', { uri });
    }
  }

  /** Legacy `resources/subscribe`. */
  subscribe(session: SessionHandle, uri: string): void {
    let uris = this.legacy.get(session);
    if (uris === undefined) this.legacy.set(session, (uris = new Set()));
    uris.add(uri);
  }

  /** Legacy `resources/unsubscribe`. */
  unsubscribe(session: SessionHandle, uri: string): void {
    const uris = this.legacy.get(session);
    uris?.delete(uri);
    if (uris?.size === 0) this.legacy.delete(session);
  }

  /** End the listens of one session gracefully (it is draining): each gets its completion result. */
  endSession(sessionId: string): void {
    if (this.listeners.size === 0 && this.legacy.size === 0) return;
    for (const listener of [...this.listeners]) if (listener.session.id === sessionId) listener.end();
    for (const session of [...this.legacy.keys()]) if (session.id === sessionId) this.legacy.delete(session);
  }

  /** End every listen gracefully (server shutdown). */
  endAll(): void {
    for (const listener of [...this.listeners]) listener.end();
  }
}

function readFilter(params: unknown): NotificationFilter {
  const raw = typeof params === 'object' && params !== null ? (params as { notifications?: unknown }).notifications : undefined;
  if (typeof raw !== 'object' || raw === null) return {};
  const n = raw as Record<string, unknown>;
  const filter: NotificationFilter = {};
  if (n['toolsListChanged'] === true) filter.toolsListChanged = true;
  if (n['promptsListChanged'] === true) filter.promptsListChanged = true;
  if (n['resourcesListChanged'] === true) filter.resourcesListChanged = true;
  const uris = n['resourceSubscriptions'];
  if (Array.isArray(uris)) filter.resourceSubscriptions = uris.filter((uri): uri is string => typeof uri === 'string');
  return filter;
}
