/**
 * A tiny notes server: `notes/add` stores a note, `notes/list` lists them, and `notes/export`
 * takes a while (it waits for its `ready` promise, or for the request to be cancelled).
 */
import { createSupervisor, defineMethod, JsonRpcError, type Clock, type RequestContext, type Supervisor } from 'session-supervisor';
import { z } from 'zod';

/**
 * What the server needs from its surroundings: a clock (the tests pass a manual one) and the wait
 * that makes `notes/export` slow (in production: the real export work).
 */
export interface NotesServerOptions {
  clock?: Clock;
  /** The slow part of an export. */
  exportWork?: (ctx: RequestContext) => Promise<void>;
}

/** Build the notes server. */
export function createNotesServer(options: NotesServerOptions = {}): Supervisor {
  const notes: string[] = [];
  const exportWork =
    options.exportWork ??
    ((ctx: RequestContext) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 1_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason as Error);
        }, { once: true });
      }));
  return createSupervisor({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    limits: { drainTimeoutMs: 5_000, cancelGraceMs: 1_000 },
    methods: {
      'notes/add': defineMethod({
        params: z.object({ text: z.string().min(1) }),
        handler: ({ text }) => {
          notes.push(text);
          return { count: notes.length };
        },
      }),
      'notes/list': () => ({ notes: [...notes] }),
      'notes/export': async (_params: unknown, ctx: RequestContext) => {
        await exportWork(ctx);
        if (ctx.signal.aborted) throw new JsonRpcError(-32800, 'Export cancelled');
        return { format: 'text', body: notes.join('\n') };
      },
    },
  });
}
