/**
 * The HTTP ceiling: a plain `node:http` server (keep-alive) that reads each POST body, JSON.parses
 * it, validates it with the zod JSON-RPC request schema and answers with JSON: an MCP-shaped
 * result for `tools/call`, the params for anything else. No MCP headers checked, no session.
 *
 * It is also the floor of `http-abort-10k`: `tools/call` with `params.name === 'hold'` is answered
 * as our server answers its `hold` tool, with plain `node:http` only: `200 text/event-stream`, one
 * `notifications/progress` event, then the response stays open. When it closes before it finished
 * (the client dropped), that counts as a cancel (stamped on the same wall clock as
 * servers/supervised-http.ts) and one more progress write is tried, which the check
 * `res.writableEnded || res.destroyed` skips (`lateWritesBlocked`). A write that passed the check
 * but whose callback reports an error (it reached a closed response) counts in `writesAfterClose`.
 *
 * Prints `READY {"port":N}`; answers memory commands on stdin, and `{"cmd":"hold-stats"}` /
 * `{"cmd":"wait-cancelled","count":N}` (answers once N holds were cancelled, bounded to 60 s) with
 * `RESULT {started, cancelled, firstCancelAt, lastCancelAt, lateWritesSent, lateWritesBlocked,
 * cancelledTransportClosed, writesAfterClose, inFlight}`, the fields of supervised-http.ts.
 */
import { createServer, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { JsonRpcRequestSchema } from '../../src/jsonrpc/schema.js';
import { answerHoldCommand } from '../lib/hold-commands.js';
import { serveMemoryCommands } from '../lib/memory-probe.js';
import { echoResult } from '../lib/messages.js';
import { servePlainHttp } from '../lib/plain-http.js';

const PARSE_ERROR = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';
const INVALID = '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}';
/** The headers our server's SSE answers carry (src/transports/http/response-stream.ts). */
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' };

const wallNow = (): number => performance.timeOrigin + performance.now();
const hold = { started: 0, cancelled: 0, firstCancelAt: 0, lastCancelAt: 0, lateWritesSent: 0, lateWritesBlocked: 0, writesAfterClose: 0, inFlight: 0 };

const onWritten = (error: Error | null | undefined): void => {
  if (error) hold.writesAfterClose += 1;
};

/** Write one SSE progress event unless the response is finished; `false` when skipped. */
function progress(res: ServerResponse, token: unknown, value: number): boolean {
  if (res.writableEnded || res.destroyed) return false;
  res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: value } })}\n\n`, onWritten);
  return true;
}

/** The `hold` tool: one progress event, then open until the client drops. */
function startHold(res: ServerResponse, params: { _meta?: { progressToken?: unknown } }): void {
  hold.started += 1;
  hold.inFlight += 1;
  const token = params._meta?.progressToken;
  res.once('close', () => {
    hold.inFlight -= 1;
    if (res.writableFinished) return;
    const now = wallNow();
    if (hold.cancelled === 0) hold.firstCancelAt = now;
    hold.cancelled += 1;
    hold.lastCancelAt = now;
    if (progress(res, token, 1)) hold.lateWritesSent += 1;
    else hold.lateWritesBlocked += 1;
  });
  res.writeHead(200, SSE_HEADERS);
  progress(res, token, 0);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const answer = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      answer(400, PARSE_ERROR);
      return;
    }
    const parsed = JsonRpcRequestSchema.safeParse(value);
    if (!parsed.success) {
      answer(400, INVALID);
      return;
    }
    const { id, method, params } = parsed.data;
    if (method === 'tools/call' && (params as { name?: unknown } | undefined)?.name === 'hold') {
      startHold(res, params as { _meta?: { progressToken?: unknown } });
      return;
    }
    answer(200, JSON.stringify({ jsonrpc: '2.0', id, result: echoResult(method, params) }));
  });
});

const holdStats = (): Record<string, number> => ({ ...hold, cancelledTransportClosed: hold.cancelled });

serveMemoryCommands(() => 0, undefined, (command) => answerHoldCommand(command, () => hold.cancelled, holdStats));
servePlainHttp(server);
