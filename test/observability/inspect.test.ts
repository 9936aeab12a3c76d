import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { connectionSessionId } from '../../machines/connection.js';
import { createMemoryTransportPair, createSupervisor, type MethodTable } from '../../src/index.js';

// One line of the inspection timeline, reduced to what the lifecycle assertions read.
interface Entry {
  kind: InspectionEvent['type'];
  actor: string;
  parent: string | undefined;
  rootId: string;
  event: string | undefined;
  reason: unknown;
  value: unknown;
  status: string | undefined;
  output: unknown;
}

type Ref = { id: string; _parent?: Ref; getSnapshot(): unknown };

/** An actor's name in the timeline: a connection actor (id `connection`) by its session id. */
const nameOf = (ref: Ref): string => (ref.id === 'connection' ? connectionSessionId(ref) : ref.id);

/** A state value as one word: `{ open: 'draining' }` reads `draining`. */
const leaf = (value: unknown): unknown => (typeof value === 'object' && value !== null ? leaf(Object.values(value)[0]) : value);

/**
 * Record the inspection timeline. An actor's name is read when the test reads the entry: a
 * connection's session id is in its context, and its snapshot can't be read while it initializes.
 */
function record(timeline: Entry[]) {
  return (e: InspectionEvent): void => {
    const ref = e.actorRef as unknown as Ref;
    const fields = { event: undefined as string | undefined, reason: undefined as unknown, value: undefined as unknown, status: undefined as string | undefined, output: undefined as unknown };
    if (e.type === '@xstate.event') {
      fields.event = e.event.type;
      fields.reason = (e.event as { reason?: unknown }).reason;
    } else if (e.type === '@xstate.snapshot') {
      const s = e.snapshot as { value?: unknown; status?: string; output?: unknown };
      Object.assign(fields, { event: e.event.type, value: leaf(s.value), status: s.status, output: s.output });
    } else if (e.type !== '@xstate.actor') {
      return;
    }
    const entry = { kind: e.type, rootId: e.rootId, ...fields } as Entry;
    Object.defineProperty(entry, 'actor', { enumerable: true, get: () => nameOf(ref) });
    Object.defineProperty(entry, 'parent', { enumerable: true, get: () => (ref._parent === undefined ? undefined : nameOf(ref._parent)) });
    timeline.push(entry);
  };
}

type Step = Partial<Entry> & { kind: Entry['kind']; actor: string };

/** Each step must match an entry after the previous step's match; returns the matched indexes. */
function expectInOrder(timeline: Entry[], steps: Step[]): number[] {
  const found: number[] = [];
  let from = 0;
  for (const step of steps) {
    const index = timeline.findIndex((entry, i) => {
      if (i < from) return false;
      return Object.entries(step).every(([key, want]) => JSON.stringify(entry[key as keyof Entry]) === JSON.stringify(want));
    });
    expect(index, `step not found in order: ${JSON.stringify(step)}\ntimeline:\n${timeline.map((t) => JSON.stringify(t)).join('\n')}`).toBeGreaterThanOrEqual(0);
    found.push(index);
    from = index + 1;
  }
  return found;
}

// A handler that runs until its signal aborts, then rejects with the signal's reason.
const methods: MethodTable = {
  wait: (_params, ctx) =>
    new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    }),
  echo: (params) => params,
};

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setupInspected() {
  const timeline: Entry[] = [];
  const supervisor = createSupervisor({ methods, inspect: record(timeline) });
  const { transport, peer } = createMemoryTransportPair();
  const session = supervisor.attach(transport);
  return { timeline, supervisor, session, peer };
}

describe('inspection of a request’s life', () => {
  it('shows connected → handler created → running → cancel(client) → cancelling → done → closed, in order', async () => {
    const { timeline, supervisor, session, peer } = setupInspected();
    peer.send({ jsonrpc: '2.0', id: 1, method: 'wait' });
    peer.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } });
    await flush();
    peer.vanish();
    await session.closed;

    const conn = session.id;
    const handler = 'request:1';
    const steps = expectInOrder(timeline, [
      { kind: '@xstate.actor', actor: conn },
      { kind: '@xstate.event', actor: conn, event: 'xstate.init' },
      { kind: '@xstate.snapshot', actor: conn, event: 'xstate.init', value: 'connected' },
      { kind: '@xstate.actor', actor: handler, parent: conn },
      { kind: '@xstate.snapshot', actor: handler, value: 'running', status: 'active' },
      { kind: '@xstate.event', actor: handler, event: 'handler.cancel', reason: 'client' },
      { kind: '@xstate.snapshot', actor: handler, event: 'handler.cancel', value: 'cancelling' },
      { kind: '@xstate.event', actor: handler, event: 'handler.reject' },
      { kind: '@xstate.snapshot', actor: handler, value: 'done', status: 'done', output: { kind: 'cancelled', reason: 'client' } },
      { kind: '@xstate.event', actor: conn, event: 'transport.closed' },
      { kind: '@xstate.snapshot', actor: conn, event: 'transport.closed', value: 'closed', status: 'done' },
    ]);
    expect(steps).toHaveLength(11);
    // A client cancel leaves the connection as it was until the peer goes.
    const closedAt = steps[10]!;
    expect(timeline.slice(0, closedAt).some((e) => e.actor === conn && e.value === 'closed')).toBe(false);
    // The supervisor, the connection and the handler are one actor system: one root id, and the
    // connection's parent is the supervisor actor.
    expect(new Set(timeline.map((e) => e.rootId)).size).toBe(1);
    expect(timeline.find((e) => e.kind === '@xstate.actor' && e.actor === conn)?.parent).toBe(supervisor.actor.id);
    expect(timeline.some((e) => e.kind === '@xstate.actor' && e.actor === supervisor.actor.id)).toBe(true);
    await supervisor.close();
  });

  it('shows a resolved request as running → done with a result, without a cancel', async () => {
    const { timeline, supervisor, session, peer } = setupInspected();
    peer.send({ jsonrpc: '2.0', id: 'a', method: 'echo', params: { x: 1 } });
    peer.endInput();
    await session.closed;

    const conn = session.id;
    const handler = 'request:a';
    expectInOrder(timeline, [
      { kind: '@xstate.snapshot', actor: conn, value: 'connected' },
      { kind: '@xstate.actor', actor: handler, parent: conn },
      { kind: '@xstate.snapshot', actor: handler, value: 'running' },
      { kind: '@xstate.event', actor: handler, event: 'handler.resolve' },
      { kind: '@xstate.snapshot', actor: handler, event: 'handler.resolve', value: 'done', status: 'done', output: { kind: 'result' } },
      // An event is reported when it is sent, a snapshot once the actor has processed it: the
      // runtime sends `handlers.idle` from the `draining` entry, before that snapshot is reported.
      { kind: '@xstate.event', actor: conn, event: 'transport.inputEnded' },
      { kind: '@xstate.event', actor: conn, event: 'handlers.idle' },
      { kind: '@xstate.snapshot', actor: conn, event: 'transport.inputEnded', value: 'draining' },
      { kind: '@xstate.snapshot', actor: conn, event: 'handlers.idle', value: 'closed', status: 'done' },
    ]);
    expect(timeline.some((e) => e.actor === handler && e.event === 'handler.cancel')).toBe(false);
    expect(timeline.some((e) => e.actor === handler && e.value === 'cancelling')).toBe(false);
    expect(peer.received).toEqual([{ jsonrpc: '2.0', id: 'a', result: { x: 1 } }]);
    await supervisor.close();
  });

  it('shows a transport close cancelling the handler with reason transport-closed before the connection is closed', async () => {
    const { timeline, supervisor, session, peer } = setupInspected();
    peer.send({ jsonrpc: '2.0', id: 7, method: 'wait' });
    await flush();
    peer.vanish();
    await session.closed;

    const conn = session.id;
    const handler = 'request:7';
    const [, , cancel, cancelling, closed, done] = expectInOrder(timeline, [
      { kind: '@xstate.actor', actor: handler, parent: conn },
      { kind: '@xstate.event', actor: conn, event: 'transport.closed' },
      { kind: '@xstate.event', actor: handler, event: 'handler.cancel', reason: 'transport-closed' },
      { kind: '@xstate.snapshot', actor: handler, value: 'cancelling' },
      { kind: '@xstate.snapshot', actor: conn, value: 'closed', status: 'done' },
      { kind: '@xstate.snapshot', actor: handler, value: 'done', output: { kind: 'cancelled', reason: 'transport-closed' } },
    ]);
    // The cancel is sent while the connection enters `closed` (its entry action), and the handler
    // settles after that, once its promise rejects.
    expect(cancel! < cancelling! && cancelling! < closed! && closed! < done!).toBe(true);
    expect(supervisor.stats().cancelled['transport-closed']).toBe(1);
    await supervisor.close();
  });

  it('delivers all three inspection kinds for the supervisor, the connection and the handler', async () => {
    const { timeline, supervisor, session, peer } = setupInspected();
    peer.send({ jsonrpc: '2.0', id: 2, method: 'echo', params: [] });
    peer.vanish();
    await session.closed;
    await supervisor.close();
    const kinds = (actor: string) => new Set(timeline.filter((e) => e.actor === actor).map((e) => e.kind));
    for (const actor of [supervisor.actor.id, session.id, 'request:2']) {
      expect([...kinds(actor)].sort(), actor).toEqual(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);
    }
    expectInOrder(timeline, [
      { kind: '@xstate.event', actor: supervisor.actor.id, event: 'supervisor.stop' },
      { kind: '@xstate.snapshot', actor: supervisor.actor.id, value: 'stopped', status: 'done' },
    ]);
  });
});
