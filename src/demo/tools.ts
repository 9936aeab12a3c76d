import { z } from 'zod';
import type { MethodTable } from '../runtime/methods.js';
import { defineTool, type ToolContext, type ToolDefinition } from '../mcp/tools.js';

/** How often `sleep` reports progress when the client asked for it. */
const PROGRESS_EVERY_MS = 100;

const MsInput = z.object({ ms: z.number().int().min(0).max(3_600_000) });

/** Wait `ms`, rejecting with the signal's reason on cancel; progress every 100 ms when asked. */
function sleepFor(ms: number, ctx: ToolContext): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    ctx.progress(0, ms);
    const ticker = setInterval(() => ctx.progress(Math.min(ms, Date.now() - started), ms), PROGRESS_EVERY_MS);
    const done = setTimeout(() => {
      // No final progress right before the result: an SDK client drops the progress handler as
      // soon as the result is in, so a last notification would only reach it as an error.
      cleanup();
      resolve(`slept ${ms} ms`);
    }, ms);
    const onAbort = (): void => {
      cleanup();
      reject(ctx.signal.reason);
    };
    const cleanup = (): void => {
      clearTimeout(done);
      clearInterval(ticker);
      ctx.signal.removeEventListener('abort', onAbort);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The demo server's tools:
 * - `echo { text }` → the same text as text content;
 * - `sleep { ms }` → waits, honouring cancellation, sends progress (every 100 ms) when asked, returns `slept N ms`;
 * - `stubborn_sleep { ms }` → waits and ignores cancellation (shows grace, then abandon);
 * - `fail { message }` → a tool error (`isError: true`).
 *
 * @example
 * ```ts
 * import { createMcpServer } from 'session-supervisor/mcp';
 * const server = createMcpServer({ name: 'demo', version: '1.0.0', tools: demoTools });
 * ```
 */
export const demoTools: readonly ToolDefinition[] = [
  defineTool({
    name: 'echo',
    description: 'Return the text as it came',
    input: z.object({ text: z.string() }),
    run: ({ text }) => text,
  }),
  defineTool({
    name: 'sleep',
    description: 'Wait ms milliseconds, honouring cancellation; reports progress when asked',
    input: MsInput,
    run: ({ ms }, ctx) => sleepFor(ms, ctx),
  }),
  defineTool({
    name: 'stubborn_sleep',
    description: 'Wait ms milliseconds and ignore cancellation',
    input: MsInput,
    run: ({ ms }) => new Promise<string>((resolve) => setTimeout(() => resolve(`slept ${ms} ms`), ms)),
  }),
  defineTool({
    name: 'fail',
    description: 'Fail with the message (a tool error)',
    input: z.object({ message: z.string() }),
    run: ({ message }) => {
      throw new Error(message);
    },
  }),
];

/**
 * The demo server's plain JSON-RPC methods: `echo` answers its params as they came (open before
 * `initialize`, so plain JSON-RPC clients and benchmarks can call it directly).
 *
 * @example
 * ```ts
 * createMcpServer({ name: 'demo', version: '1.0.0', methods: demoMethods, openMethods: ['echo'] });
 * ```
 */
export const demoMethods: MethodTable = {
  echo: (params: unknown) => params ?? null,
};
