import { request, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startFixture } from '../lib/child.js';
import { processCpuMs } from '../lib/proc-cpu.js';
import { MODERN_META } from '../lib/messages.js';
import { round } from '../lib/stats.js';

/** What `http-abort-10k` reports. */
export interface HttpAbortResult {
  count: number;
  /** Time to open every SSE call (each one's first progress event read). */
  openMs: number;
  /** Time the client took to drop every connection. */
  abortMs: number;
  /** From the first drop until the server had cancelled every handler (figure: ≤ 1 000 ms). */
  cancelAllMs: number;
  /** From the last drop until the server had cancelled every handler. */
  afterLastAbortMs: number;
  /** Handlers cancelled, and of those with reason `transport-closed` (both must equal `count`). */
  cancelled: number;
  cancelledTransportClosed: number;
  /** Frames that reached an HTTP response after it ended (figure: 0). */
  writesAfterClose: number;
  /** The one write each cancelled handler tries: blocked by the guard, or (must be 0) sent. */
  lateWritesBlocked: number;
  lateWritesSent: number;
  /** Handlers still running on the server at the end (must be 0). */
  inFlightAfter: number;
  /**
   * Server CPU from the first drop until every handler was cancelled, per exchange (µs): what the
   * window costs the server, whatever share of the cores it got (`null` where /proc is missing).
   */
  serverCpuUsPerAbort?: number | null;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'hold',
};

/** Open one `hold` call and resolve once its SSE stream has carried the first event. */
function openHold(url: URL, id: number): Promise<ClientRequest> {
  const body = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"hold","arguments":{},"_meta":{"progressToken":${id},${MODERN_META}}}}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200 || res.headers['content-type']?.startsWith('text/event-stream') !== true) {
        reject(new Error(`hold ${id}: status ${String(res.statusCode)} ${String(res.headers['content-type'])}`));
        req.destroy();
        return;
      }
      res.once('data', () => resolve(req));
      res.on('error', () => {});
    });
    req.on('error', (error) => reject(error));
    req.end(body);
  });
}

/** Our server; `servers/raw-http.ts` answers the same `hold` calls with plain `node:http` (the floor). */
export const ABORT_SERVER = 'servers/supervised-http.ts';

/**
 * `count` modern `tools/call hold` exchanges open at once against an HTTP server in its own
 * process (`server`: a fixture of bench/, ours by default), each streaming SSE (its first progress
 * event read); then the client drops every connection. The server stamps each handler's cancel;
 * the result is the time from the first drop until every handler was cancelled, and what was
 * written after close. Connections open 200 at a time (the listen backlog is finite).
 *
 * @example
 * ```ts
 * const ours = await runHttpAbort(10_000);
 * const floor = await runHttpAbort(10_000, [], 'servers/raw-http.ts');
 * ```
 */
export async function runHttpAbort(count: number, nodeArgs: string[] = [], server: string = ABORT_SERVER): Promise<HttpAbortResult> {
  const fixture = await startFixture(server, [], { timeoutMs: 120_000, nodeArgs });
  try {
    const url = new URL(typeof fixture.ready.url === 'string' ? fixture.ready.url : `http://127.0.0.1:${String(fixture.ready.port)}/mcp`);
    const open: ClientRequest[] = [];
    const t0 = performance.now();
    let next = 0;
    const opener = async (): Promise<void> => {
      while (next < count) {
        next += 1;
        open.push(await openHold(url, next));
      }
    };
    await Promise.all(Array.from({ length: Math.min(200, count) }, () => opener()));
    const openMs = performance.now() - t0;
    fixture.command({ cmd: 'hold-stats' });
    const before = (await fixture.nextResult(30_000)) as { started: number; cancelled: number };
    if (before.started !== count || before.cancelled !== 0) throw new Error(`http-abort (${server}): ${JSON.stringify(before)} before the aborts, wanted ${count} started`);
    const cpuBefore = processCpuMs(fixture.child.pid);
    const abortStart = wallNow();
    for (const req of open) req.destroy();
    const abortEnd = wallNow();
    fixture.command({ cmd: 'wait-cancelled', count });
    const after = (await fixture.nextResult(70_000)) as {
      cancelled: number;
      lastCancelAt: number;
      cancelledTransportClosed: number;
      writesAfterClose: number;
      lateWritesBlocked: number;
      lateWritesSent: number;
      inFlight: number;
    };
    const cpuAfter = processCpuMs(fixture.child.pid);
    return {
      count,
      openMs: round(openMs, 1),
      abortMs: round(abortEnd - abortStart, 1),
      cancelAllMs: round(after.lastCancelAt - abortStart, 1),
      afterLastAbortMs: round(after.lastCancelAt - abortEnd, 1),
      cancelled: after.cancelled,
      cancelledTransportClosed: after.cancelledTransportClosed,
      writesAfterClose: after.writesAfterClose,
      lateWritesBlocked: after.lateWritesBlocked,
      lateWritesSent: after.lateWritesSent,
      inFlightAfter: after.inFlight,
      serverCpuUsPerAbort: cpuBefore === undefined || cpuAfter === undefined ? null : round(((cpuAfter - cpuBefore) * 1000) / count, 1),
    };
  } finally {
    await fixture.stop();
  }
}
