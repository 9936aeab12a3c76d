/**
 * The task tools of the multi-instance tests, built per instance: `hold` (idempotent) and `fragile`
 * (not) block until aborted on an instance told to block, and answer at once elsewhere, naming the
 * instance, so a test sees which instance finished a task. `finish` answers once `seen.gate` resolves.
 */
import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../src/mcp/index.js';

/** What the handlers of one instance saw: the abort reasons, in order. */
export interface Seen {
  aborts: unknown[];
  started: string[];
  /** `finish` answers once this resolves. */
  gate?: Promise<void>;
}

export function instanceTools(label: string, block: boolean, seen: Seen = { aborts: [], started: [] }): ToolDefinition[] {
  const run = async (name: string, ctx: { signal: AbortSignal; taskId: string | undefined }): Promise<string> => {
    seen.started.push(`${name}:${String(ctx.taskId)}`);
    if (block) {
      await new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          seen.aborts.push(ctx.signal.reason);
          reject(ctx.signal.reason as Error);
        });
      });
    }
    return `${name} ran on ${label}`;
  };
  return [
    defineTool({ name: 'hold', input: z.object({}), task: true, idempotent: true, run: (_args, ctx) => run('hold', ctx) }),
    defineTool({ name: 'fragile', input: z.object({}), task: true, run: (_args, ctx) => run('fragile', ctx) }),
    defineTool({
      name: 'finish',
      input: z.object({}),
      task: true,
      run: async () => {
        await seen.gate;
        return `finish ran on ${label}`;
      },
    }),
  ];
}
