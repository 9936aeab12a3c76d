import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { connectionMachine, connectionPhase, type ConnectionEvent } from '../../machines/connection.js';
import { CANCEL_REASONS, type CancelReason } from '../../machines/reasons.js';

type Call = [string, unknown?];

/** A connection actor whose named actions record what they were called with, in order. */
function start() {
  const calls: Call[] = [];
  const logic = connectionMachine.provide({
    actions: {
      admit: () => calls.push(['admit']),
      stopAdmitting: () => calls.push(['stopAdmitting']),
      startDrainTimer: () => calls.push(['startDrainTimer']),
      stopDrainTimer: () => calls.push(['stopDrainTimer']),
      drainStarted: (_, params) => calls.push(['drainStarted', params.reason]),
      blockSends: () => calls.push(['blockSends']),
      cancelHandlers: (_, params) => calls.push(['cancelHandlers', params.reason]),
      closeTransport: (_, params) => calls.push(['closeTransport', params.reason]),
    },
  });
  const actor = createActor(logic, { input: { sessionId: 's1' } });
  actor.start();
  return { actor, calls };
}

function at(state: 'connected' | 'draining', via: ConnectionEvent = { type: 'transport.inputEnded' }) {
  const run = start();
  if (state === 'draining') run.actor.send(via);
  run.calls.length = 0;
  return run;
}

describe('connectionMachine', () => {
  it('starts open.connected, admits and may send, with empty reasons and the session id from input', () => {
    const { actor, calls } = start();
    const s = actor.getSnapshot();
    expect(s.value).toEqual({ open: 'connected' });
    expect(connectionPhase(s)).toBe('connected');
    expect(s.status).toBe('active');
    expect(s.hasTag('may-send')).toBe(true);
    expect(s.hasTag('admits')).toBe(true);
    expect(s.context).toEqual({ sessionId: 's1', drainReason: null, closeReason: null });
    expect(calls).toEqual([['admit']]);
  });

  describe('from connected', () => {
    it('drains on transport.inputEnded with drainReason input-ended, arming the drain timer', () => {
      const { actor, calls } = at('connected');
      actor.send({ type: 'transport.inputEnded' });
      const s = actor.getSnapshot();
      expect(s.value).toEqual({ open: 'draining' });
      expect(s.hasTag('may-send')).toBe(true);
      expect(s.hasTag('admits')).toBe(false);
      expect(s.context.drainReason).toBe('input-ended');
      expect(s.context.closeReason).toBeNull();
      expect(calls).toEqual([['stopAdmitting'], ['startDrainTimer'], ['drainStarted', 'input-ended']]);
    });

    it('drains on session.drain with drainReason shutdown', () => {
      const { actor, calls } = at('connected');
      actor.send({ type: 'session.drain' });
      expect(connectionPhase(actor.getSnapshot())).toBe('draining');
      expect(actor.getSnapshot().context.drainReason).toBe('shutdown');
      expect(calls).toEqual([['stopAdmitting'], ['startDrainTimer'], ['drainStarted', 'shutdown']]);
    });

    it('closes on transport.closed: cancels once with transport-closed, blocks sends, closes the transport', () => {
      const { actor, calls } = at('connected');
      actor.send({ type: 'transport.closed' });
      const s = actor.getSnapshot();
      expect(s.value).toBe('closed');
      expect(s.status).toBe('done');
      expect(s.hasTag('may-send')).toBe(false);
      expect(s.context.closeReason).toBe('transport-closed');
      expect(calls).toEqual([
        ['stopAdmitting'],
        ['cancelHandlers', 'transport-closed'],
        ['blockSends'],
        ['closeTransport', 'transport-closed'],
      ]);
    });

    it.each(CANCEL_REASONS.map((r) => [r]))(
      'closes on session.close(%s), cancelling once, before sends are blocked so the dialect may answer',
      (reason: CancelReason) => {
        const { actor, calls } = at('connected');
        actor.send({ type: 'session.close', reason });
        const s = actor.getSnapshot();
        expect(s.value).toBe('closed');
        expect(s.context.closeReason).toBe(reason);
        expect(calls).toEqual([['stopAdmitting'], ['cancelHandlers', reason], ['blockSends'], ['closeTransport', reason]]);
      },
    );

    it.each([[{ type: 'handlers.idle' }], [{ type: 'timer.drainDeadline' }]] as [ConnectionEvent][])(
      'ignores %j',
      (event) => {
        const { actor, calls } = at('connected');
        actor.send(event);
        expect(actor.getSnapshot().value).toEqual({ open: 'connected' });
        expect(calls).toEqual([]);
      },
    );
  });

  describe('from draining', () => {
    it('closes idle on handlers.idle: stops the timer, cancels with the fallback reason shutdown, closes with null', () => {
      const { actor, calls } = at('draining');
      actor.send({ type: 'handlers.idle' });
      const s = actor.getSnapshot();
      expect(s.value).toBe('closed');
      expect(s.status).toBe('done');
      expect(s.context.closeReason).toBeNull();
      expect(s.context.drainReason).toBe('input-ended');
      expect(calls).toEqual([['stopDrainTimer'], ['cancelHandlers', 'shutdown'], ['blockSends'], ['closeTransport', null]]);
    });

    it('closes on the drain deadline, cancelling with drain-timeout before sends are blocked', () => {
      const { actor, calls } = at('draining', { type: 'session.drain' });
      actor.send({ type: 'timer.drainDeadline' });
      const s = actor.getSnapshot();
      expect(s.value).toBe('closed');
      expect(s.context).toEqual({ sessionId: 's1', drainReason: 'shutdown', closeReason: 'drain-timeout' });
      expect(calls).toEqual([['stopDrainTimer'], ['cancelHandlers', 'drain-timeout'], ['blockSends'], ['closeTransport', 'drain-timeout']]);
    });

    it('closes on transport.closed with transport-closed', () => {
      const { actor, calls } = at('draining');
      actor.send({ type: 'transport.closed' });
      expect(actor.getSnapshot().value).toBe('closed');
      expect(actor.getSnapshot().context.closeReason).toBe('transport-closed');
      expect(calls).toEqual([['stopDrainTimer'], ['cancelHandlers', 'transport-closed'], ['blockSends'], ['closeTransport', 'transport-closed']]);
    });

    it('closes on session.close with its reason', () => {
      const { actor, calls } = at('draining');
      actor.send({ type: 'session.close', reason: 'request-timeout' });
      expect(actor.getSnapshot().value).toBe('closed');
      expect(actor.getSnapshot().context.closeReason).toBe('request-timeout');
      expect(calls).toEqual([['stopDrainTimer'], ['cancelHandlers', 'request-timeout'], ['blockSends'], ['closeTransport', 'request-timeout']]);
    });

    it.each([[{ type: 'transport.inputEnded' }], [{ type: 'session.drain' }]] as [ConnectionEvent][])(
      'ignores %j (already draining; the timer is not re-armed)',
      (event) => {
        const { actor, calls } = at('draining');
        actor.send(event);
        expect(actor.getSnapshot().value).toEqual({ open: 'draining' });
        expect(actor.getSnapshot().context.drainReason).toBe('input-ended');
        expect(calls).toEqual([]);
      },
    );
  });

  describe('closed (final)', () => {
    it.each([
      [{ type: 'transport.inputEnded' }],
      [{ type: 'transport.closed' }],
      [{ type: 'session.drain' }],
      [{ type: 'session.close', reason: 'client' }],
      [{ type: 'handlers.idle' }],
      [{ type: 'timer.drainDeadline' }],
    ] as [ConnectionEvent][])('ignores %j: the snapshot stays, no action is planned', (event) => {
      const [initial] = initialTransition(connectionMachine, { sessionId: 's1' });
      const [afterClose] = transition(connectionMachine, initial, { type: 'transport.closed' });
      expect(afterClose.status).toBe('done');
      const [next, actions] = transition(connectionMachine, afterClose, event);
      expect(next.value).toBe('closed');
      expect(next.status).toBe('done');
      expect(next.context).toEqual(afterClose.context);
      expect(actions).toEqual([]);
    });
  });

  it('runs with the default (no-op) actions, so it loads anywhere', () => {
    const actor = createActor(connectionMachine, { input: { sessionId: 'x' } }).start();
    actor.send({ type: 'session.drain' });
    actor.send({ type: 'handlers.idle' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('declares open (connected, draining) and closed: may-send on open, admits on connected only', () => {
    const states = connectionMachine.root.states;
    expect(Object.keys(states)).toEqual(['open', 'closed']);
    expect(states['open']!.tags).toEqual(['may-send']);
    expect(Object.keys(states['open']!.states)).toEqual(['connected', 'draining']);
    expect(states['open']!.states['connected']!.tags).toEqual(['admits']);
    expect(states['open']!.states['draining']!.tags).toEqual([]);
    expect(states['closed']!.tags).toEqual([]);
    expect(states['closed']!.type).toBe('final');
  });

  it('has one transition per close event, on open: transport.closed and session.close are not repeated per phase', () => {
    const open = connectionMachine.root.states['open']!;
    for (const type of ['transport.closed', 'session.close']) {
      expect(open.transitions.get(type)).toHaveLength(1);
      for (const phase of Object.values(open.states)) expect(phase.transitions.get(type)).toBeUndefined();
    }
  });
});
