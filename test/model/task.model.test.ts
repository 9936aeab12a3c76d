/**
 * Model-based tests of the task lifecycle: every path `createTestModel` generates from
 * `taskMachine` is replayed against the real task runtime (a task manager on the memory store,
 * with a test clock for its timers and a manual wall clock for the store). Each model event
 * becomes a real stimulus — the work asks for input, the client answers or cancels, the owner
 * shuts down, its lease lapses and another instance sweeps, the clock passes the ttl — and after
 * every step the stored task must have the model's status and reason, and the work's signal must
 * be aborted exactly when the model says the task was stopped.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { taskMachine, type TaskEvent } from '../../machines/task.js';
import { createTestClock } from '../../src/runtime/clock.js';
import { createMemoryTaskStore } from '../../src/mcp/tasks/memory-store.js';
import { createTaskManager, type TaskRunContext } from '../../src/mcp/tasks/manager.js';
import { flush } from '../helpers/deferred.js';
import { coverageSuite } from './coverage.js';

const TTL_MS = 60_000;
const LEASE_MS = 1_000;
const INPUT = { taskId: 'model', ttlMs: TTL_MS };

const EVENTS: TaskEvent[] = [
  { type: 'task.inputRequired' },
  { type: 'task.inputProvided' },
  { type: 'task.complete' },
  { type: 'task.error' },
  { type: 'task.cancel', reason: 'client' },
  { type: 'task.cancel', reason: 'shutdown' },
  { type: 'task.cancel', reason: 'instance-lost' },
  { type: 'timer.ttl' },
];

const model = createTestModel(taskMachine, { events: EVENTS, input: INPUT, stopWhen: (state) => state.status === 'done' });
const paths = model.getShortestPaths();

type ModelSnapshot = ReturnType<typeof initialTransition<typeof taskMachine>>[0];

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

/** Owner A runs one task whose work does what the test says; B is another instance on the store. */
async function system() {
  const clock = createTestClock();
  let wall = 1_000_000;
  const now = () => wall;
  const store = createMemoryTaskStore({ now });
  const a = createTaskManager({ store, instanceId: 'a', leaseMs: LEASE_MS, clock, now });
  const b = createTaskManager({ store, instanceId: 'b', leaseMs: LEASE_MS, clock: createTestClock(), now });
  await a.start();
  await b.start();
  let ctx!: TaskRunContext;
  let finish!: (value: unknown) => void;
  let fail!: (error: Error) => void;
  const task = await a.run(
    (c) =>
      new Promise((resolve, reject) => {
        ctx = c;
        finish = resolve;
        fail = reject;
      }),
    { ttlMs: TTL_MS },
  );
  await settle();
  return {
    a,
    b,
    taskId: task.taskId,
    ctx: () => ctx,
    finish: (v: unknown) => finish(v),
    fail: (e: Error) => fail(e),
    clock,
    advanceWall: (ms: number) => (wall += ms),
  };
}

describe('task model against the runtime', () => {
  coverageSuite('task', taskMachine, paths, INPUT);

  it.each(paths.map((p) => [p.description, p]))('%s', async (_description, path) => {
    const sut = await system();
    let pendingInput: Promise<unknown> | undefined;
    const expectState = async (state: ModelSnapshot): Promise<void> => {
      await settle();
      const record = await sut.b.get(sut.taskId);
      if (state.value === 'expired') {
        expect(record).toBeUndefined();
        return;
      }
      expect(record?.status).toBe(state.value);
      expect(record?.reason).toBe(state.context.reason);
      expect(sut.ctx().signal.aborted).toBe(state.context.reason !== null);
      if (state.context.reason !== null) expect((sut.ctx().signal.reason as { reason: string }).reason).toBe(state.context.reason);
    };
    await expectState(initialTransition(taskMachine, INPUT)[0]);

    await path.test({
      events: {
        'task.inputRequired': async () => {
          pendingInput = sut.ctx().requestInput({ k: { method: 'roots/list' } }).catch((e: unknown) => e);
          await settle();
        },
        'task.inputProvided': async () => {
          await sut.b.update(sut.taskId, { k: { roots: [] } });
          await settle();
          expect(await pendingInput).toEqual({ k: { roots: [] } });
        },
        'task.complete': async () => {
          sut.finish({ content: [] });
          await settle();
        },
        'task.error': async () => {
          sut.fail(new Error('work failed'));
          await settle();
        },
        'task.cancel': async ({ event }) => {
          const reason = (event as Extract<TaskEvent, { type: 'task.cancel' }>).reason;
          if (reason === 'client') await sut.b.cancel(sut.taskId);
          else if (reason === 'shutdown') await sut.a.shutdown();
          else {
            // A stops renewing (its clock stands still); once the lease lapsed, B sweeps.
            sut.advanceWall(LEASE_MS);
            expect(await sut.b.sweep()).toBe(1);
          }
          await settle();
        },
        'timer.ttl': async () => {
          // A running task's ttl timer fires on the runtime's clock; a finished one ages out of the store.
          const record = await sut.b.get(sut.taskId);
          if (record !== undefined && (record.status === 'working' || record.status === 'input_required')) sut.clock.advance(TTL_MS);
          else sut.advanceWall(TTL_MS);
          await settle();
        },
      },
      states: { '*': (state) => expectState(state) },
    });
    await sut.a.shutdown().catch(() => undefined);
    await sut.b.shutdown();
  });
});
