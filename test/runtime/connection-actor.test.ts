import { describe, expect, it } from 'vitest';
import { createActor, setup, type InspectionEvent } from 'xstate';
import { NO_CONNECTION_EFFECTS, type ConnectionEffects } from '../../machines/connection-logic.js';
import { LeanConnectionActor } from '../../src/runtime/connection-actor.js';
import { InspectionSink } from '../../src/runtime/handler-actor.js';

/** A parent actor that records the events it receives. */
function recordingParent() {
  const received: string[] = [];
  const parent = createActor(
    setup({ types: { events: {} as { type: string } } }).createMachine({
      on: { '*': { actions: ({ event }) => received.push(event.type) } },
    }),
  ).start();
  return { parent, received };
}

function effects(overrides: Partial<ConnectionEffects> = {}): ConnectionEffects {
  return { ...NO_CONNECTION_EFFECTS, ...overrides };
}

describe('LeanConnectionActor', () => {
  it('queues the events its own actions send, and reads the state before the step while they run', () => {
    const { parent } = recordingParent();
    const seen: unknown[] = [];
    const self: { actor?: LeanConnectionActor } = {};
    const actor = new LeanConnectionActor(
      parent,
      's1',
      effects({
        drainStarted: () => {
          seen.push(self.actor!.getSnapshot().value);
          self.actor!.send({ type: 'handlers.idle' });
          seen.push(self.actor!.getSnapshot().value);
        },
        cancelHandlers: (reason) => seen.push(`cancel:${reason}`),
      }),
      new InspectionSink(parent),
    );
    self.actor = actor;
    const snapshots: unknown[] = [];
    let completed = 0;
    actor.subscribe({ next: (s) => snapshots.push(s.value), complete: () => (completed += 1) });
    actor.start();
    actor.send({ type: 'transport.inputEnded' });
    expect(seen).toEqual([{ open: 'connected' }, { open: 'connected' }, 'cancel:shutdown']);
    expect(snapshots).toEqual([{ open: 'draining' }, 'closed']);
    expect(completed).toBe(1);
    expect(actor.getSnapshot()).toMatchObject({ status: 'done', value: 'closed', context: { sessionId: 's1', drainReason: 'input-ended', closeReason: null } });
  });

  it('holds events sent before start until it starts, and drops events once done', () => {
    const { parent } = recordingParent();
    const log: string[] = [];
    const actor = new LeanConnectionActor(parent, 's2', effects({ admit: () => log.push('admit'), closeTransport: (r) => log.push(`close:${String(r)}`) }), new InspectionSink(parent));
    actor.send({ type: 'transport.closed' });
    expect(log).toEqual([]);
    actor.start();
    expect(log).toEqual(['admit', 'close:transport-closed']);
    actor.send({ type: 'session.close', reason: 'shutdown' });
    expect(log).toEqual(['admit', 'close:transport-closed']);
    expect(actor.getSnapshot().context.closeReason).toBe('transport-closed');
  });

  it('fails like an xstate actor when an action throws: status error, observers told, the parent gets xstate.error.actor.connection', () => {
    const { parent, received } = recordingParent();
    const boom = new Error('boom');
    const actor = new LeanConnectionActor(
      parent,
      's3',
      effects({
        cancelHandlers: () => {
          throw boom;
        },
      }),
      new InspectionSink(parent),
    );
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'session.close', reason: 'shutdown' });
    expect(actor.getSnapshot().status).toBe('error');
    expect(actor.getSnapshot().error).toBe(boom);
    expect(errors).toEqual([boom]);
    expect(received).toContain('xstate.error.actor.connection');
    const late: unknown[] = [];
    actor.subscribe({ error: (error) => late.push(error) });
    expect(late).toEqual([boom]);
  });

  it('reports its life to the supervisor inspection sink: actor, events and snapshots, under its parent', () => {
    const { parent } = recordingParent();
    const sink = new InspectionSink(parent);
    const events: InspectionEvent[] = [];
    sink.add({ next: (event) => events.push(event) });
    const actor = new LeanConnectionActor(parent, 's4', effects(), sink);
    actor.start();
    actor.send({ type: 'transport.closed' });
    expect(events.map((e) => e.type)).toEqual(['@xstate.actor', '@xstate.event', '@xstate.snapshot', '@xstate.event', '@xstate.snapshot']);
    expect(events.every((e) => e.actorRef === actor && e.rootId === parent.sessionId)).toBe(true);
    const last = events.at(-1) as InspectionEvent & { snapshot: { value: unknown } };
    expect(last.snapshot.value).toBe('closed');
    expect(actor._parent).toBe(parent);
    expect(actor.sessionId).not.toBe('');
  });
});
