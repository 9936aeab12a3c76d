import { z } from 'zod';
import { defineTool, type ToolContext, type ToolDefinition } from '../../src/mcp/index.js';
import type { CancelledError } from '../../src/index.js';

/** `hold`: never answers on its own; `onStart` when it runs, `onCancel` with the reason when cancelled. */
export function holdTool(hooks: { onStart?: (ctx: ToolContext) => void; onCancel: (reason: CancelledError, ctx: ToolContext) => void }): ToolDefinition {
  return defineTool({
    name: 'hold',
    input: z.object({}),
    run: (_args, ctx) =>
      new Promise((_, reject) => {
        hooks.onStart?.(ctx);
        ctx.onCancel((reason) => {
          hooks.onCancel(reason, ctx);
          reject(reason);
        });
      }),
  });
}

/** `count { steps }`: one progress notification per step (a turn of the event loop apart), then `counted N`. */
export const countTool: ToolDefinition = defineTool({
  name: 'count',
  input: z.object({ steps: z.number().int().min(1).max(10) }),
  run: async ({ steps }, ctx) => {
    for (let i = 1; i <= steps; i++) {
      ctx.progress(i, steps);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return `counted ${steps}`;
  },
});
