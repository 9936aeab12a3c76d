import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { taskMachine, taskStatusOf, type TaskEvent } from '../../machines/task.js';

function run(...events: TaskEvent[]) {
  const actor = createActor(taskMachine, { input: { taskId: 't1', ttlMs: 1000 } }).start();
  for (const e of events) actor.send(e);
  return actor.getSnapshot();
}

describe('task machine', () => {
  it('starts working and goes back and forth with input_required', () => {
    expect(run().value).toBe('working');
    expect(run({ type: 'task.inputRequired' }).value).toBe('input_required');
    expect(run({ type: 'task.inputRequired' }, { type: 'task.inputProvided' }).value).toBe('working');
  });

  it('a client cancel ends cancelled with reason client', () => {
    const s = run({ type: 'task.inputRequired' }, { type: 'task.cancel', reason: 'client' });
    expect(s.value).toBe('cancelled');
    expect(s.context.reason).toBe('client');
  });

  it.each(['shutdown', 'instance-lost'] as const)('%s ends failed with that reason, never silently', (reason) => {
    const s = run({ type: 'task.cancel', reason });
    expect(s.value).toBe('failed');
    expect(s.context.reason).toBe(reason);
  });

  it('ttl while running cancels with ttl-expired; ttl after the end expires it', () => {
    const s = run({ type: 'timer.ttl' });
    expect(s.value).toBe('cancelled');
    expect(s.context.reason).toBe('ttl-expired');
    const e = run({ type: 'task.complete' }, { type: 'timer.ttl' });
    expect(e.value).toBe('expired');
    expect(e.status).toBe('done');
    expect(taskStatusOf('expired')).toBeUndefined();
  });

  it('terminal states ignore work events', () => {
    const s = run({ type: 'task.complete' }, { type: 'task.error' }, { type: 'task.cancel', reason: 'client' }, { type: 'task.inputRequired' });
    expect(s.value).toBe('completed');
    expect(s.context.reason).toBeNull();
  });
});
