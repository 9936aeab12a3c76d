import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/** Heap and RSS after a full GC (needs `node --expose-gc`; without it, the numbers are noisier). */
export function measureMemory(): { heapUsed: number; rss: number; gc: boolean } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, rss: usage.rss, gc: gc !== undefined };
}

/**
 * Answer memory commands on stdin (JSON lines) with `RESULT {json}` lines on stdout:
 * `{"cmd":"memory"}` → heap, RSS and the number of open sessions.
 * `{"cmd":"wait-sessions","count":N}` → answers once `sessions()` reaches N (polling, bounded to 60 s).
 * `{"cmd":"close-all"}` → closes every session from the server side; answers with the time it took.
 * Any other command goes to `other` (a fixture's own commands).
 */
export function serveMemoryCommands(
  sessions: () => number,
  closeAll?: () => Promise<void>,
  other?: (command: { cmd: string; count?: number }) => void,
): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = JSON.parse(line) as { cmd: string; count?: number };
    if (!['close-all', 'memory', 'wait-sessions'].includes(command.cmd)) {
      other?.(command);
      return;
    }
    if (command.cmd === 'close-all' && closeAll !== undefined) {
      const start = performance.now();
      void closeAll().then(() => {
        process.stdout.write(`RESULT ${JSON.stringify({ closeAllMs: performance.now() - start, sessions: sessions() })}\n`);
      });
    } else if (command.cmd === 'memory') {
      process.stdout.write(`RESULT ${JSON.stringify({ ...measureMemory(), sessions: sessions() })}\n`);
    } else if (command.cmd === 'wait-sessions') {
      const deadline = Date.now() + 60_000;
      const check = (): void => {
        const count = sessions();
        if (count === command.count || Date.now() > deadline) {
          process.stdout.write(`RESULT ${JSON.stringify({ sessions: count })}\n`);
        } else setTimeout(check, 5);
      };
      check();
    }
  });
}
