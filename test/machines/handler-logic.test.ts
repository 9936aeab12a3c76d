import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { handlerLogic } from '../../machines/handler-logic.js';
import { handlerMachine, type HandlerEvent, type HandlerInput } from '../../machines/handler.js';
import { CANCEL_REASONS } from '../../machines/reasons.js';

const EVENTS: HandlerEvent[] = [
  { type: 'handler.resolve' },
  { type: 'handler.reject' },
  ...CANCEL_REASONS.map((reason): HandlerEvent => ({ type: 'handler.cancel', reason })),
  { type: 'timer.cancelGrace' },
];

/** Every sequence of `events` of length 0…maxLength. */
function* sequences(maxLength: number): Generator<HandlerEvent[]> {
  yield [];
  if (maxLength === 0) return;
  for (const prefix of sequences(maxLength - 1)) {
    if (prefix.length !== maxLength - 1) continue;
    for (const event of EVENTS) yield [...prefix, event];
  }
}

function allSequences(maxLength: number): HandlerEvent[][] {
  const out: HandlerEvent[][] = [];
  for (let n = 0; n <= maxLength; n += 1) {
    for (const seq of sequences(n)) if (seq.length === n) out.push(seq);
  }
  return out;
}

function pick(s: { status: string; value: unknown; context: unknown; output: unknown }) {
  return { status: s.status, value: s.value, context: s.context, output: s.output };
}

/** A canonical text of a trace (undefined kept apart from null and from a missing member). */
function key(trace: unknown): string {
  return JSON.stringify(trace, (_k, v: unknown) => (v === undefined ? '<undefined>' : v));
}

function observe(logic: typeof handlerLogic | typeof handlerMachine, input: HandlerInput, seq: HandlerEvent[]) {
  const actor = createActor(logic as typeof handlerMachine, { input });
  actor.start();
  const trace: unknown[] = [];
  const snap = () => pick(actor.getSnapshot());
  trace.push(snap());
  for (const event of seq) {
    // A done actor is stopped: both kinds drop the event, so only send while active.
    if (actor.getSnapshot().status === 'active') actor.send(event);
    trace.push(snap());
  }
  return trace;
}

describe('handlerLogic conforms to handlerMachine', () => {
  const all = allSequences(4);

  it('enumerates every sequence of up to four events over the nine handler events', () => {
    expect(all).toHaveLength(1 + 9 + 81 + 729 + 6561);
  });

  const INPUTS: HandlerInput[] = [
    { requestId: 1, method: 'work' },
    { requestId: 0, method: 'zero' },
    { requestId: 'abc', method: 'tools/call' },
  ];

  it('reaches the same status, value, context and output after every step, as running actors', () => {
    const examples: string[] = [];
    for (const seq of all) {
      const lean = key(observe(handlerLogic, INPUTS[0]!, seq));
      const reference = key(observe(handlerMachine, INPUTS[0]!, seq));
      if (lean !== reference && examples.length < 3) examples.push(`${seq.map((e) => JSON.stringify(e)).join(' → ')}: ${lean} ≠ ${reference}`);
    }
    expect(examples).toEqual([]);
  });

  it.each(INPUTS.slice(1).map((input) => [input]))(
    'agrees through the pure transition functions on every prefix, input %j',
    (input) => {
      const scope = {} as Parameters<typeof handlerLogic.transition>[2];
      const examples: string[] = [];
      let compared = 0;
      type Lean = ReturnType<typeof handlerLogic.transition>;
      type Reference = ReturnType<typeof initialTransition<typeof handlerMachine>>[0];
      // Depth-first over the event tree: each prefix is computed once and compared once.
      const walk = (lean: Lean, reference: Reference, path: HandlerEvent[]): void => {
        compared += 1;
        const a = key(pick(lean));
        const b = key(pick(reference));
        if (a !== b && examples.length < 3) examples.push(`${path.map((e) => JSON.stringify(e)).join(' → ')}: ${a} ≠ ${b}`);
        if (path.length === 4) return;
        for (const event of EVENTS) {
          walk(handlerLogic.transition(lean, event, scope), transition(handlerMachine, reference, event)[0], [...path, event]);
        }
      };
      walk(handlerLogic.getInitialSnapshot(scope, input), initialTransition(handlerMachine, input)[0], []);
      expect(compared).toBe(all.length);
      expect(examples).toEqual([]);
    },
  );

  it('returns the same snapshot object for an ignored event (no allocation on the hot path)', () => {
    const scope = {} as Parameters<typeof handlerLogic.transition>[2];
    const s0 = handlerLogic.getInitialSnapshot(scope, { requestId: 1, method: 'm' });
    expect(handlerLogic.transition(s0, { type: 'timer.cancelGrace' }, scope)).toBe(s0);
    const done = handlerLogic.transition(s0, { type: 'handler.resolve' }, scope);
    expect(handlerLogic.transition(done, { type: 'handler.cancel', reason: 'client' }, scope)).toBe(done);
  });
});
