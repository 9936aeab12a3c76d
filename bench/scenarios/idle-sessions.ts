import WebSocket from 'ws';
import { startFixture, type Fixture } from '../lib/child.js';
import { round } from '../lib/stats.js';

/** What `idle-sessions` reports. */
export interface IdleSessionsResult {
  sessions: number;
  /** Heap per idle session on our server (after GC). */
  bytesPerSession: number;
  /** Heap per idle socket on a plain `ws` server (after GC). */
  rawWsBytesPerSession: number;
  /** `bytesPerSession − rawWsBytesPerSession`: what a session costs above the socket (figure: ≤ 8 KiB). */
  aboveRawBytes: number;
  rssBytesPerSession: number;
  rawWsRssBytesPerSession: number;
  /** Our server closing every session (`supervisor.close()`), ms. */
  closeAllMs: number;
  /** A plain `ws` server closing every socket with 1001 and seeing them closed, ms. */
  rawWsCloseAllMs: number;
}

async function openMany(url: string, count: number, concurrency: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const socket = new WebSocket(url, { perMessageDeflate: false });
      socket.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('idle-sessions: connect timed out')), 20_000);
        socket.once('open', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      sockets.push(socket);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return sockets;
}

async function measure(
  fixture: Fixture,
  count: number,
): Promise<{ heapPerSession: number; rssPerSession: number; closeAllMs: number }> {
  const port = fixture.ready.port as number;
  fixture.command({ cmd: 'memory' });
  const before = (await fixture.nextResult(30_000)) as { heapUsed: number; rss: number };
  const sockets = await openMany(`ws://127.0.0.1:${port}`, count, 100);
  fixture.command({ cmd: 'wait-sessions', count });
  const seen = (await fixture.nextResult(70_000)) as { sessions: number };
  if (seen.sessions !== count) throw new Error(`idle-sessions: server saw ${seen.sessions} of ${count} sessions`);
  fixture.command({ cmd: 'memory' });
  const after = (await fixture.nextResult(30_000)) as { heapUsed: number; rss: number };
  const closed = Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.readyState === WebSocket.CLOSED ? resolve() : s.once('close', () => resolve())))));
  fixture.command({ cmd: 'close-all' });
  const { closeAllMs } = (await fixture.nextResult(60_000)) as { closeAllMs: number };
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
  for (const socket of sockets) socket.terminate();
  return {
    heapPerSession: (after.heapUsed - before.heapUsed) / count,
    rssPerSession: (after.rss - before.rss) / count,
    closeAllMs,
  };
}

/**
 * 10k idle WebSocket sessions on our server and 10k idle sockets on a plain `ws` server (each in
 * its own process with `--expose-gc`, the client in this one): heap and RSS per session above what
 * raw `ws` costs, and the time to close all from the server side.
 */
export async function runIdleSessions(count: number): Promise<IdleSessionsResult> {
  const rawFixture = await startFixture('servers/raw-ws.ts', [], { nodeArgs: ['--expose-gc'] });
  let raw: Awaited<ReturnType<typeof measure>>;
  try {
    raw = await measure(rawFixture, count);
  } finally {
    await rawFixture.stop();
  }
  const ourFixture = await startFixture('servers/supervised.ts', ['--ws'], { nodeArgs: ['--expose-gc'] });
  let ours: Awaited<ReturnType<typeof measure>>;
  try {
    ours = await measure(ourFixture, count);
  } finally {
    await ourFixture.stop();
  }
  return {
    sessions: count,
    bytesPerSession: Math.round(ours.heapPerSession),
    rawWsBytesPerSession: Math.round(raw.heapPerSession),
    aboveRawBytes: Math.round(ours.heapPerSession - raw.heapPerSession),
    rssBytesPerSession: Math.round(ours.rssPerSession),
    rawWsRssBytesPerSession: Math.round(raw.rssPerSession),
    closeAllMs: round(ours.closeAllMs, 1),
    rawWsCloseAllMs: round(raw.closeAllMs, 1),
  };
}
