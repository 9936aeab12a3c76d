import type { TaskRecord } from './record.js';
import type { TaskStore } from './store.js';

const without = (map: Record<string, unknown> | undefined, keys: readonly string[]): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...map };
  for (const key of keys) delete out[key];
  return out;
};

/**
 * The input requests of a task that the client has not answered yet (answered keys are hidden
 * at once, before the handler took the answers).
 *
 * @example
 * ```ts
 * pendingInputs({ ...record, inputRequests: { a: req, b: req }, inputResponses: { a: {} } }); // { b: req }
 * ```
 */
export function pendingInputs(record: TaskRecord): Record<string, unknown> {
  const responses = record.inputResponses ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, request] of Object.entries(record.inputRequests ?? {})) if (!(key in responses)) out[key] = request;
  return out;
}

/**
 * Keep only the answers to requests the task has open (the spec: ignore answers to keys that were
 * never issued or are already answered).
 *
 * @example
 * ```ts
 * acceptedAnswers(record, { a: {}, stray: {} }); // { a: {} } when only `a` is open
 * ```
 */
export function acceptedAnswers(record: TaskRecord, answers: Record<string, unknown>): Record<string, unknown> {
  const open = pendingInputs(record);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(answers)) if (key in open) out[key] = value;
  return out;
}

/**
 * Ask the client for input from a running task, and wait for the answers: the requests are merged
 * into the task's open requests (several may be open at once, e.g. two parallel elicitations), the
 * task goes `input_required`, and each answer sent with `tasks/update` (on any instance) is taken
 * once all keys of this call are answered. The task goes back to `working` once no request is
 * open. `wait()` must resolve on the next update signal or abort; it is armed before each read so
 * that no signal is missed.
 *
 * @example
 * ```ts
 * const answers = await askForInput(store, taskId, { name: req }, signal, () => ({ woken: nextSignal(), disarm() {} }));
 * ```
 */
export async function askForInput(
  store: TaskStore,
  taskId: string,
  requests: Record<string, unknown>,
  signal: AbortSignal,
  arm: () => { woken: Promise<void>; disarm(): void },
): Promise<Record<string, unknown>> {
  const keys = Object.keys(requests);
  const stopped = (): never => {
    signal.throwIfAborted();
    throw new Error(`task ${taskId} is no longer running`);
  };
  const asked = await store.patch(taskId, (current) =>
    current.status === 'working' || current.status === 'input_required' ? { inputRequests: { ...current.inputRequests, ...requests } } : undefined,
  );
  if (asked === undefined) return stopped();
  if (asked.status === 'working') await store.transition(taskId, { type: 'task.inputRequired' });
  for (;;) {
    signal.throwIfAborted();
    const { woken, disarm } = arm();
    const record = await store.get(taskId).catch((error: unknown) => {
      disarm();
      throw error;
    });
    if (record === undefined) {
      disarm();
      return stopped();
    }
    const responses = record.inputResponses ?? {};
    if (keys.every((key) => key in responses)) {
      disarm();
      const answers = Object.fromEntries(keys.map((key) => [key, responses[key]]));
      const taken = await store.patch(taskId, (current) => ({
        inputRequests: without(current.inputRequests, keys),
        inputResponses: without(current.inputResponses, keys),
      }));
      if (taken !== undefined && taken.status === 'input_required' && Object.keys(taken.inputRequests ?? {}).length === 0) {
        await store.transition(taskId, { type: 'task.inputProvided' });
      }
      return answers;
    }
    await woken;
  }
}
