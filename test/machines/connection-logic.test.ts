import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { connectionMachine, type ConnectionEvent } from '../../machines/connection.js';
import {
  bindConnectionEffects,
  connectionLogicLean,
  initialConnectionSnapshot,
  startConnection,
  stepConnection,
  type ConnectionEffects,
  type ConnectionSnapshot,
} from '../../machines/connection-logic.js';
import { CANCEL_REASONS } from '../../machines/reasons.js';

const EVENTS: ConnectionEvent[] = [
  { type: 'transport.inputEnded' },
  { type: 'transport.closed' },
  { type: 'session.drain' },
  ...CANCEL_REASONS.map((reason): ConnectionEvent => ({ type: 'session.close', reason })),
  { type: 'handlers.idle' },
  { type: 'timer.drainDeadline' },
];

/** Every sequence of `EVENTS` of length 0…maxLength. */
function allSequences(maxLength: number): ConnectionEvent[][] {
  const out: ConnectionEvent[][] = [[]];
  let layer: ConnectionEvent[][] = [[]];
  for (let n = 1; n <= maxLength; n += 1) {
    layer = layer.flatMap((prefix) => EVENTS.map((event) => [...prefix, event]));
    out.push(...layer);
  }
  return out;
}

/** Effects that write each action (name and parameter) into `log`. */
function recorder(log: string[]): ConnectionEffects {
  return {
    admit: () => log.push('admit'),
    stopAdmitting: () => log.push('stopAdmitting'),
    startDrainTimer: () => log.push('startDrainTimer'),
    stopDrainTimer: () => log.push('stopDrainTimer'),
    drainStarted: (reason) => log.push(`drainStarted:${reason}`),
    blockSends: () => log.push('blockSends'),
    cancelHandlers: (reason) => log.push(`cancelHandlers:${reason}`),
    closeTransport: (reason) => log.push(`closeTransport:${String(reason)}`),
  };
}

const TAGS = ['admits', 'may-send'] as const;

function pick(s: { status: string; value: unknown; context: unknown; output: unknown; hasTag(tag: string): boolean }) {
  return { status: s.status, value: s.value, context: s.context, output: s.output, tags: TAGS.filter((tag) => s.hasTag(tag)) };
}

/** The reference: the xstate machine, its actions recorded through `provide()`. */
function observeMachine(seq: ConnectionEvent[]): unknown[] {
  const log: string[] = [];
  const effects = recorder(log);
  const actor = createActor(
    connectionMachine.provide({
      actions: {
        admit: () => effects.admit(),
        stopAdmitting: () => effects.stopAdmitting(),
        startDrainTimer: () => effects.startDrainTimer(),
        stopDrainTimer: () => effects.stopDrainTimer(),
        drainStarted: (_, params) => effects.drainStarted(params.reason),
        blockSends: () => effects.blockSends(),
        cancelHandlers: (_, params) => effects.cancelHandlers(params.reason),
        closeTransport: (_, params) => effects.closeTransport(params.reason),
      },
    }),
    { input: { sessionId: 's1' } },
  );
  actor.start();
  const trace: unknown[] = [{ ...pick(actor.getSnapshot()), actions: log.splice(0) }];
  for (const event of seq) {
    if (actor.getSnapshot().status === 'active') actor.send(event);
    trace.push({ ...pick(actor.getSnapshot()), actions: log.splice(0) });
  }
  return trace;
}

/** The lean logic through its pure step function. */
function observeLean(seq: ConnectionEvent[]): unknown[] {
  const log: string[] = [];
  const effects = recorder(log);
  let s: ConnectionSnapshot = initialConnectionSnapshot({ sessionId: 's1' });
  startConnection(s, effects);
  const trace: unknown[] = [{ ...pick(s), actions: log.splice(0) }];
  for (const event of seq) {
    s = stepConnection(s, event, effects);
    trace.push({ ...pick(s), actions: log.splice(0) });
  }
  return trace;
}

/** A canonical text of a trace (undefined kept apart from null and from a missing member). */
const key = (trace: unknown): string => JSON.stringify(trace, (_k, v: unknown) => (v === undefined ? '<undefined>' : v));

describe('the lean connection logic conforms to connectionMachine', () => {
  const all = allSequences(4);

  it('enumerates every sequence of up to four events over the eleven connection events', () => {
    expect(all).toHaveLength(1 + 11 + 121 + 1331 + 14641);
  });

  it('reaches the same status, value, context, output and tags, running the same actions in the same order, after every step', () => {
    const examples: string[] = [];
    for (const seq of all) {
      const lean = key(observeLean(seq));
      const reference = key(observeMachine(seq));
      if (lean !== reference && examples.length < 3) examples.push(`${seq.map((e) => JSON.stringify(e)).join(' → ')}:\n${lean}\n≠\n${reference}`);
    }
    expect(examples).toEqual([]);
  });

  it('returns the same snapshot object for an event the state does not take, running nothing', () => {
    const log: string[] = [];
    const s0 = initialConnectionSnapshot({ sessionId: 's1' });
    expect(stepConnection(s0, { type: 'handlers.idle' }, recorder(log))).toBe(s0);
    const closed = stepConnection(s0, { type: 'transport.closed' }, recorder([]));
    expect(stepConnection(closed, { type: 'session.drain' }, recorder(log))).toBe(closed);
    expect(log).toEqual([]);
  });

  it('runs as an xstate actor too, with its actions bound per actor', () => {
    const log: string[] = [];
    const actor = createActor(connectionLogicLean, { input: { sessionId: 's2' } });
    bindConnectionEffects(actor, recorder(log));
    actor.start();
    actor.send({ type: 'transport.inputEnded' });
    actor.send({ type: 'handlers.idle' });
    expect(actor.getSnapshot()).toMatchObject({ status: 'done', value: 'closed', context: { sessionId: 's2', drainReason: 'input-ended', closeReason: null } });
    expect(log).toEqual(['admit', 'stopAdmitting', 'startDrainTimer', 'drainStarted:input-ended', 'stopDrainTimer', 'cancelHandlers:shutdown', 'blockSends', 'closeTransport:null']);
  });
});
