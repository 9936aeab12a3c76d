/**
 * The tools the conformance suite's `tasks-*` scenarios (the `io.modelcontextprotocol/tasks`
 * extension, SEP-2663) ask the fixture for: one sync tool and the task tools, written as any
 * session-supervisor tool author would — `task: true | 'optional'` and nothing else changes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ErrorCode, JsonRpcError } from '../../src/index.js';
import { defineTool, type ToolDefinition } from '../../src/mcp/index.js';

const confirmSchema = { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] };
const nameSchema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };

/** The tools of the tasks scenarios. */
export function taskTools(): ToolDefinition[] {
  return [
    defineTool({
      name: 'greet',
      description: 'Greets by name (never a task)',
      input: z.object({ name: z.string() }),
      run: ({ name }) => `Hello, ${name}!`,
    }),
    defineTool({
      name: 'slow_compute',
      description: 'Sleeps `seconds` seconds, then answers; a task when the client declares the tasks extension',
      input: z.object({ seconds: z.number().min(0).max(3_600), label: z.string().optional() }),
      task: 'optional',
      idempotent: true,
      run: async ({ seconds, label }, ctx) => {
        ctx.progress(0, seconds, 'computing');
        await sleep(seconds * 1_000, undefined, { signal: ctx.signal });
        return `computed ${label ?? 'result'} after ${seconds} s`;
      },
    }),
    defineTool({
      name: 'failing_job',
      description: 'Always a task; fails with a tool error after about a second',
      input: z.object({}),
      task: true,
      run: async (_args, ctx) => {
        await sleep(1_000, undefined, { signal: ctx.signal });
        throw new Error('failing_job failed, as it always does');
      },
    }),
    defineTool({
      name: 'protocol_error_job',
      description: 'A task that ends in a protocol (JSON-RPC) error',
      input: z.object({}),
      task: 'optional',
      run: async (_args, ctx) => {
        await sleep(100, undefined, { signal: ctx.signal });
        throw new JsonRpcError(ErrorCode.InternalError, 'protocol_error_job hit an internal error');
      },
    }),
    defineTool({
      name: 'confirm_delete',
      description: 'Asks the user to confirm, then deletes (pretends to)',
      input: z.object({ filename: z.string() }),
      task: 'optional',
      run: async ({ filename }, ctx) => {
        const answer = (await ctx.elicit('confirm', { mode: 'form', message: `Delete ${filename}?`, requestedSchema: confirmSchema })) as {
          action?: string;
          content?: { confirm?: boolean };
        };
        return answer.action === 'accept' && answer.content?.confirm === true ? `deleted ${filename}` : `kept ${filename}`;
      },
    }),
    defineTool({
      name: 'multi_input',
      description: 'Asks two questions at once',
      input: z.object({}),
      task: 'optional',
      run: async (_args, ctx) => {
        const [first, second] = await Promise.all([
          ctx.elicit('first', { mode: 'form', message: 'First name?', requestedSchema: nameSchema }),
          ctx.elicit('second', { mode: 'form', message: 'Second name?', requestedSchema: nameSchema }),
        ]);
        return `got ${JSON.stringify(first)} and ${JSON.stringify(second)}`;
      },
    }),
    defineTool({
      name: 'test_tool_with_task',
      description: 'Asks for a name in the request (MRTR), then goes on as a task',
      input: z.object({}),
      task: true,
      gather: async (_args, ctx) => {
        const answer = (await ctx.elicit('user_name', { mode: 'form', message: 'Your name?', requestedSchema: nameSchema })) as { content?: { name?: string } };
        return answer.content?.name ?? '';
      },
      run: async (_args, ctx) => {
        await sleep(50, undefined, { signal: ctx.signal });
        return `Hello, ${String(ctx.gathered)}!`;
      },
    }),
  ];
}
