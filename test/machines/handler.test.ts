import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { handlerMachine, outcomeOf, type HandlerEvent } from '../../machines/handler.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';

const input = { requestId: 7, method: 'work' };

function running() {
  return createActor(handlerMachine, { input }).start();
}

function cancelling(reason: CancelReason = 'client') {
  const actor = running();
  actor.send({ type: 'handler.cancel', reason });
  return actor;
}

describe('handlerMachine', () => {
  it('starts running with the request id and method, no reason, not settled', () => {
    const s = running().getSnapshot();
    expect(s.value).toBe('running');
    expect(s.status).toBe('active');
    expect(s.context).toEqual({ requestId: 7, method: 'work', reason: null, settled: null });
    expect(s.output).toBeUndefined();
  });

  it('keeps id 0 and string ids as they are', () => {
    expect(createActor(handlerMachine, { input: { requestId: 0, method: 'm' } }).start().getSnapshot().context.requestId).toBe(0);
    expect(createActor(handlerMachine, { input: { requestId: '0', method: 'm' } }).start().getSnapshot().context.requestId).toBe('0');
  });

  describe('from running', () => {
    it('settles with a result on handler.resolve', () => {
      const actor = running();
      actor.send({ type: 'handler.resolve' });
      const s = actor.getSnapshot();
      expect(s.value).toBe('done');
      expect(s.status).toBe('done');
      expect(s.context.settled).toBe('result');
      expect(s.output).toEqual({ kind: 'result' });
    });

    it('settles with an error on handler.reject', () => {
      const actor = running();
      actor.send({ type: 'handler.reject' });
      expect(actor.getSnapshot().value).toBe('done');
      expect(actor.getSnapshot().output).toEqual({ kind: 'error' });
    });

    it.each(CANCEL_REASONS.map((r) => [r]))('goes to cancelling on handler.cancel(%s), keeping the reason', (reason) => {
      const actor = cancelling(reason);
      const s = actor.getSnapshot();
      expect(s.value).toBe('cancelling');
      expect(s.status).toBe('active');
      expect(s.context).toEqual({ requestId: 7, method: 'work', reason, settled: null });
    });

    it('ignores timer.cancelGrace while running', () => {
      const [s0] = initialTransition(handlerMachine, input);
      const [s1, actions] = transition(handlerMachine, s0, { type: 'timer.cancelGrace' });
      expect(s1.value).toBe('running');
      expect(s1.context).toEqual(s0.context);
      expect(actions).toEqual([]);
    });
  });

  describe('from cancelling', () => {
    it.each([['handler.resolve'], ['handler.reject']] as const)(
      'settles as cancelled (keeping the reason) when the handler answers late with %s',
      (type) => {
        const actor = cancelling('drain-timeout');
        actor.send({ type });
        const s = actor.getSnapshot();
        expect(s.value).toBe('done');
        expect(s.context.settled).toBe('cancelled');
        expect(s.output).toEqual({ kind: 'cancelled', reason: 'drain-timeout' });
      },
    );

    it('is abandoned on timer.cancelGrace', () => {
      const actor = cancelling('shutdown');
      actor.send({ type: 'timer.cancelGrace' });
      expect(actor.getSnapshot().value).toBe('done');
      expect(actor.getSnapshot().output).toEqual({ kind: 'abandoned', reason: 'shutdown' });
    });

    it('ignores a second cancel: the first reason stays', () => {
      const actor = cancelling('client');
      const [s, actions] = transition(handlerMachine, actor.getSnapshot(), { type: 'handler.cancel', reason: 'shutdown' });
      expect(s.value).toBe('cancelling');
      expect(s.context.reason).toBe('client');
      expect(actions).toEqual([]);
    });
  });

  describe('done (final)', () => {
    it.each([
      [{ type: 'handler.resolve' }],
      [{ type: 'handler.reject' }],
      [{ type: 'handler.cancel', reason: 'client' }],
      [{ type: 'timer.cancelGrace' }],
    ] as [HandlerEvent][])('ignores %j: the outcome never changes', (event) => {
      const [s0] = initialTransition(handlerMachine, input);
      const [done] = transition(handlerMachine, s0, { type: 'handler.resolve' });
      const [after, actions] = transition(handlerMachine, done, event);
      expect(after.status).toBe('done');
      expect(after.output).toEqual({ kind: 'result' });
      expect(after.context).toEqual(done.context);
      expect(actions).toEqual([]);
    });
  });

  it('declares exactly the states running, cancelling and done (final)', () => {
    expect(Object.keys(handlerMachine.root.states)).toEqual(['running', 'cancelling', 'done']);
    expect(handlerMachine.root.states['done']!.type).toBe('final');
  });
});

describe('outcomeOf', () => {
  it('maps each settled kind to its outcome', () => {
    const base = { requestId: 1, method: 'm' };
    expect(outcomeOf({ ...base, reason: null, settled: 'result' })).toEqual({ kind: 'result' });
    expect(outcomeOf({ ...base, reason: null, settled: 'error' })).toEqual({ kind: 'error' });
    expect(outcomeOf({ ...base, reason: 'client', settled: 'cancelled' })).toEqual({ kind: 'cancelled', reason: 'client' });
    expect(outcomeOf({ ...base, reason: 'request-timeout', settled: 'abandoned' })).toEqual({
      kind: 'abandoned',
      reason: 'request-timeout',
    });
  });

  it('falls back to the reason shutdown when none was recorded', () => {
    expect(outcomeOf({ requestId: 1, method: 'm', reason: null, settled: 'abandoned' })).toEqual({
      kind: 'abandoned',
      reason: 'shutdown',
    });
  });
});
