import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, initialTransition, transition, type AnyActorRef } from 'xstate';
import { SUPERVISOR_PHASES, supervisorMachine, type SupervisorEvent } from '../../machines/supervisor.js';

function start() {
  const calls: string[] = [];
  const logic = supervisorMachine.provide({
    actions: {
      drainSessions: () => calls.push('drainSessions'),
      closeSessions: () => calls.push('closeSessions'),
      stopAccepting: () => calls.push('stopAccepting'),
      closeListeners: () => calls.push('closeListeners'),
      scheduleTimer: (_, params: { timer: string; ms: number | null }) => calls.push(`schedule:${params.timer}:${String(params.ms)}`),
      clearTimers: () => calls.push('clearTimers'),
      sessionFailed: () => calls.push('sessionFailed'),
    },
  });
  const actor = createActor(logic);
  actor.start();
  return { actor, calls };
}

const shutdown: SupervisorEvent = { type: 'supervisor.shutdown', delayMs: 5000, drainMs: 10_000, graceMs: 2000 };

describe('supervisorMachine', () => {
  it('starts running, accepting and ready', () => {
    const { actor, calls } = start();
    expect(actor.getSnapshot().value).toBe('running');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(true);
    expect(actor.getSnapshot().hasTag('ready')).toBe(true);
    expect(calls).toEqual([]);
  });

  it('on supervisor.shutdown turns unready at once but keeps accepting until the shutdown delay fires', () => {
    const { actor, calls } = start();
    actor.send(shutdown);
    expect(actor.getSnapshot().value).toBe('unready');
    expect(actor.getSnapshot().hasTag('ready')).toBe(false);
    expect(actor.getSnapshot().hasTag('accepting')).toBe(true);
    expect(actor.getSnapshot().context).toEqual({ delayMs: 5000, drainMs: 10_000, graceMs: 2000 });
    expect(calls).toEqual(['schedule:shutdownDelay:5000']);
  });

  it('runs every phase in order on its timers: unready → draining → cancelling → abandoning → closing → stopped', () => {
    const { actor, calls } = start();
    const seen: string[] = [];
    actor.subscribe((s) => seen.push(s.value));
    actor.send(shutdown);
    actor.send({ type: 'timer.shutdownDelay' });
    expect(actor.getSnapshot().value).toBe('draining');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
    // The drain deadline is scheduled before the sessions drain (it fires before their own timers).
    expect(calls.splice(0)).toEqual(['schedule:shutdownDelay:5000', 'clearTimers', 'stopAccepting', 'schedule:drainDeadline:10000', 'drainSessions']);
    actor.send({ type: 'timer.drainDeadline' });
    expect(actor.getSnapshot().value).toBe('cancelling');
    expect(calls.splice(0)).toEqual(['clearTimers', 'stopAccepting', 'schedule:cancelGrace:2000', 'closeSessions']);
    actor.send({ type: 'timer.cancelGrace' });
    expect(actor.getSnapshot().value).toBe('abandoning');
    expect(calls.splice(0)).toEqual(['clearTimers']);
    actor.send({ type: 'sessions.allClosed' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(calls.splice(0)).toEqual(['closeListeners']);
    actor.send({ type: 'listeners.closed' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(seen).toEqual(['unready', 'draining', 'cancelling', 'abandoning', 'closing', 'stopped']);
  });

  it('skips cancelling when every session closes within the drain', () => {
    const { actor, calls } = start();
    actor.send(shutdown);
    actor.send({ type: 'timer.shutdownDelay' });
    actor.send({ type: 'sessions.allClosed' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(calls).not.toContain('closeSessions');
    actor.send({ type: 'listeners.closed' });
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('drains on supervisor.drain without a deadline of its own (each session bounds its drain)', () => {
    const { actor, calls } = start();
    actor.send({ type: 'supervisor.drain' });
    expect(actor.getSnapshot().value).toBe('draining');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
    expect(calls).toEqual(['stopAccepting', 'schedule:drainDeadline:null', 'drainSessions']);
  });

  it('stops from draining once every session has closed and the listeners are closed', () => {
    const { actor } = start();
    actor.send({ type: 'supervisor.drain' });
    actor.send({ type: 'sessions.allClosed' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(actor.getSnapshot().status).toBe('active');
    actor.send({ type: 'listeners.closed' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
  });

  it.each([['unready'], ['draining'], ['abandoning']] as const)('forces the cancel phase on supervisor.stop while %s', (phase) => {
    const { actor, calls } = start();
    actor.send(shutdown);
    if (phase !== 'unready') actor.send({ type: 'timer.shutdownDelay' });
    if (phase === 'abandoning') {
      actor.send({ type: 'timer.drainDeadline' });
      actor.send({ type: 'timer.cancelGrace' });
    }
    expect(actor.getSnapshot().value).toBe(phase);
    calls.length = 0;
    actor.send({ type: 'supervisor.stop' });
    expect(actor.getSnapshot().value).toBe(phase === 'abandoning' ? 'abandoning' : 'cancelling');
    expect(calls).toContain('closeSessions');
  });

  it('closes every session on supervisor.stop from running, and stops once they and the listeners have closed', () => {
    const { actor, calls } = start();
    actor.send({ type: 'supervisor.stop' });
    expect(actor.getSnapshot().value).toBe('cancelling');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
    expect(calls).toEqual(['stopAccepting', 'schedule:cancelGrace:null', 'closeSessions']);
    actor.send({ type: 'sessions.allClosed' });
    actor.send({ type: 'listeners.closed' });
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('ignores sessions.allClosed and timers while running', () => {
    const [s0] = initialTransition(supervisorMachine);
    for (const type of ['sessions.allClosed', 'timer.drainDeadline', 'timer.cancelGrace', 'timer.shutdownDelay', 'listeners.closed'] as const) {
      const [s1, actions] = transition(supervisorMachine, s0, { type });
      expect(s1.value).toBe('running');
      expect(actions).toEqual([]);
    }
  });

  it('ignores a second supervisor.drain or supervisor.shutdown while draining', () => {
    const [s0] = initialTransition(supervisorMachine);
    const [s1] = transition(supervisorMachine, s0, { type: 'supervisor.drain' });
    for (const event of [{ type: 'supervisor.drain' }, shutdown] as SupervisorEvent[]) {
      const [s2, actions] = transition(supervisorMachine, s1, event);
      expect(s2.value).toBe('draining');
      expect(actions).toEqual([]);
    }
  });

  it('ignores a stale drain deadline once cancelling', () => {
    const [s0] = initialTransition(supervisorMachine);
    const [s1] = transition(supervisorMachine, s0, { type: 'supervisor.stop' });
    const [s2, actions] = transition(supervisorMachine, s1, { type: 'timer.drainDeadline' });
    expect(s2.value).toBe('cancelling');
    expect(actions).toEqual([]);
  });

  it.each([
    [{ type: 'supervisor.drain' }],
    [{ type: 'supervisor.stop' }],
    [{ type: 'sessions.allClosed' }],
    [{ type: 'listeners.closed' }],
    [shutdown],
  ] as [SupervisorEvent][])('ignores %j once stopped', (event) => {
    const [s0] = initialTransition(supervisorMachine);
    const [cancelling] = transition(supervisorMachine, s0, { type: 'supervisor.stop' });
    const [closing] = transition(supervisorMachine, cancelling, { type: 'sessions.allClosed' });
    const [stopped] = transition(supervisorMachine, closing, { type: 'listeners.closed' });
    const [after, actions] = transition(supervisorMachine, stopped, event);
    expect(after.value).toBe('stopped');
    expect(after.status).toBe('done');
    expect(actions).toEqual([]);
  });

  it.each([['running'], ['draining']] as const)(
    'handles a failed child actor while %s: counted by sessionFailed, the supervisor keeps its state',
    (state) => {
      const { actor, calls } = start();
      if (state === 'draining') actor.send({ type: 'supervisor.drain' });
      calls.length = 0;
      const failing = fromCallback(() => {
        throw new Error('session bug');
      });
      const child = createActor(failing, { parent: actor as unknown as AnyActorRef, id: 's1' });
      child.subscribe({ error: () => {} });
      child.start();
      expect(child.getSnapshot().status).toBe('error');
      expect(calls).toEqual(['sessionFailed']);
      expect(actor.getSnapshot().value).toBe(state);
      expect(actor.getSnapshot().status).toBe('active');
    },
  );

  it('declares exactly the phases in order, accepting while running or unready, ready only while running', () => {
    const states = supervisorMachine.root.states;
    expect(Object.keys(states)).toEqual([...SUPERVISOR_PHASES]);
    expect(states['running']!.tags).toEqual(['accepting', 'ready']);
    expect(states['unready']!.tags).toEqual(['accepting']);
    for (const phase of ['draining', 'cancelling', 'abandoning', 'closing', 'stopped']) expect(states[phase]!.tags).toEqual([]);
    expect(states['stopped']!.type).toBe('final');
  });
});
