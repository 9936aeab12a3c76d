/**
 * Our server over Streamable HTTP, as a server author would write it with the public API:
 * `createMcpServer` with the demo tools on `listenHttp` (127.0.0.1, port 0). Modern (2026-07-28)
 * requests come without `initialize`, so `tools/call` is admitted before it (`openMethods`).
 * Tools besides the demo's `echo`:
 * - `progress_echo { text }`: one progress notification, then the text (so the answer is SSE);
 * - `hold {}`: one progress notification (the response turns SSE), then waits for its cancel; when
 *   cancelled it tries one more progress write (which the guard must block) and rejects.
 *
 * Prints `READY {"port":N}`; answers memory commands on stdin, and `{"cmd":"hold-stats"}` /
 * `{"cmd":"wait-cancelled","count":N}` (answers once N `hold` calls were cancelled, bounded to 60 s)
 * with `RESULT {started, cancelled, firstCancelAt, lastCancelAt, lateWritesSent, lateWritesBlocked,
 * cancelledTransportClosed, writesAfterClose, blockedSends, inFlight}` (times: ms since the epoch,
 * sub-millisecond, comparable across processes on one machine).
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { demoTools } from '../../src/demo/tools.js';
import { defineTool } from '../../src/mcp/tools.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { listenHttp } from '../../src/transports/http.js';
import { answerHoldCommand } from '../lib/hold-commands.js';
import { serveMemoryCommands } from '../lib/memory-probe.js';

const wallNow = (): number => performance.timeOrigin + performance.now();
const hold = { started: 0, cancelled: 0, firstCancelAt: 0, lastCancelAt: 0, lateWritesSent: 0, lateWritesBlocked: 0 };

const server = createMcpServer({
  name: 'bench',
  version: '1.0.0',
  tools: [
    ...demoTools,
    defineTool({
      name: 'progress_echo',
      description: 'One progress notification, then the text',
      input: z.object({ text: z.string() }),
      run: ({ text }, ctx) => {
        ctx.progress(1, 1);
        return text;
      },
    }),
    defineTool({
      name: 'hold',
      description: 'Stream one progress notification, then wait until cancelled',
      input: z.object({}),
      run: (_args, ctx) =>
        new Promise<string>((_resolve, reject) => {
          hold.started += 1;
          ctx.progress(0);
          ctx.onCancel((reason) => {
            const now = wallNow();
            if (hold.cancelled === 0) hold.firstCancelAt = now;
            hold.cancelled += 1;
            hold.lastCancelAt = now;
            if (ctx.progress(1)) hold.lateWritesSent += 1;
            else hold.lateWritesBlocked += 1;
            reject(reason);
          });
        }),
    }),
  ],
  openMethods: ['tools/call'],
});

const listener = await listenHttp(server, { host: '127.0.0.1', port: 0 });
process.stdout.write(`READY ${JSON.stringify({ port: listener.port, url: listener.url })}\n`);

const holdStats = (): Record<string, number> => {
  const stats = server.stats();
  return {
    ...hold,
    cancelledTransportClosed: stats.cancelled['transport-closed'],
    writesAfterClose: listener.stats().writesAfterClose,
    blockedSends: stats.blockedSends,
    inFlight: stats.inFlight,
  };
};

serveMemoryCommands(
  () => server.sessions().length,
  () => server.close(),
  (command) => answerHoldCommand(command, () => hold.cancelled, holdStats),
);
process.on('SIGTERM', () => {
  void server.close().then(() => listener.close()).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
});
