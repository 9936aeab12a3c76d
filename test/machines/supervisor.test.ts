import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, initialTransition, transition, type AnyActorRef } from 'xstate';
import { supervisorMachine, type SupervisorEvent } from '../../machines/supervisor.js';

function start() {
  const calls: string[] = [];
  const logic = supervisorMachine.provide({
    actions: {
      drainSessions: () => calls.push('drainSessions'),
      closeSessions: () => calls.push('closeSessions'),
      sessionFailed: () => calls.push('sessionFailed'),
    },
  });
  const actor = createActor(logic);
  actor.start();
  return { actor, calls };
}

describe('supervisorMachine', () => {
  it('starts running and accepting', () => {
    const { actor, calls } = start();
    expect(actor.getSnapshot().value).toBe('running');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(true);
    expect(calls).toEqual([]);
  });

  it('drains on supervisor.drain: stops accepting and drains every session', () => {
    const { actor, calls } = start();
    actor.send({ type: 'supervisor.drain' });
    expect(actor.getSnapshot().value).toBe('draining');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
    expect(calls).toEqual(['drainSessions']);
  });

  it('stops from draining once every session has closed', () => {
    const { actor, calls } = start();
    actor.send({ type: 'supervisor.drain' });
    actor.send({ type: 'sessions.allClosed' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
    expect(calls).toEqual(['drainSessions']);
  });

  it('forces the close on supervisor.stop while draining, and stops once every session has closed', () => {
    const { actor, calls } = start();
    actor.send({ type: 'supervisor.drain' });
    actor.send({ type: 'supervisor.stop' });
    expect(actor.getSnapshot().value).toBe('draining');
    expect(calls).toEqual(['drainSessions', 'closeSessions']);
    actor.send({ type: 'sessions.allClosed' });
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('closes every session on supervisor.stop from running, and stops once they have closed', () => {
    const { actor, calls } = start();
    actor.send({ type: 'supervisor.stop' });
    expect(actor.getSnapshot().value).toBe('draining');
    expect(actor.getSnapshot().hasTag('accepting')).toBe(false);
    expect(calls).toEqual(['closeSessions']);
    actor.send({ type: 'sessions.allClosed' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(calls).toEqual(['closeSessions']);
  });

  it('ignores sessions.allClosed while running', () => {
    const [s0] = initialTransition(supervisorMachine);
    const [s1, actions] = transition(supervisorMachine, s0, { type: 'sessions.allClosed' });
    expect(s1.value).toBe('running');
    expect(actions).toEqual([]);
  });

  it('ignores a second supervisor.drain while draining', () => {
    const [s0] = initialTransition(supervisorMachine);
    const [s1] = transition(supervisorMachine, s0, { type: 'supervisor.drain' });
    const [s2, actions] = transition(supervisorMachine, s1, { type: 'supervisor.drain' });
    expect(s2.value).toBe('draining');
    expect(actions).toEqual([]);
  });

  it.each([[{ type: 'supervisor.drain' }], [{ type: 'supervisor.stop' }], [{ type: 'sessions.allClosed' }]] as [
    SupervisorEvent,
  ][])('ignores %j once stopped', (event) => {
    const [s0] = initialTransition(supervisorMachine);
    const [draining] = transition(supervisorMachine, s0, { type: 'supervisor.stop' });
    const [stopped] = transition(supervisorMachine, draining, { type: 'sessions.allClosed' });
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

  it('declares exactly running, draining and stopped (final), accepting only while running', () => {
    const states = supervisorMachine.root.states;
    expect(Object.keys(states)).toEqual(['running', 'draining', 'stopped']);
    expect(states['running']!.tags).toEqual(['accepting']);
    expect(states['draining']!.tags).toEqual([]);
    expect(states['stopped']!.type).toBe('final');
  });
});
