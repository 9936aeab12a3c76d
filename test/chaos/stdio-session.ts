// The stdio fault: a `serve --stdio` child gets requests, then its stdin ends with them in flight.
// Input ended is a half-close: every request must still be answered, then the process exits 0.
import { within } from './client.js';
import type { FaultEnv } from './faults.js';
import { Ledger, type Response } from './ledger.js';
import { startStdioServer } from './server.js';

const textOf = (r: Response): unknown => (r.result as { content?: { text?: unknown }[] } | undefined)?.content?.[0]?.text;

/** Run one stdio session with stdin EOF while requests are in flight. */
export async function runStdioSession(env: FaultEnv): Promise<void> {
  const server = startStdioServer();
  const ledger = new Ledger(env.figures, `${env.label}/stdio`);
  let buffered = '';
  server.child.stdout!.setEncoding('utf8');
  server.child.stdout!.on('data', (chunk: string) => {
    const lines = (buffered + chunk).split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === '') continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        env.unexpected(`${env.label} stdio: stdout line that is not JSON: ${line.slice(0, 120)}`);
        continue;
      }
      if (typeof message === 'object' && message !== null && 'method' in message) continue;
      ledger.received(message as Response);
    }
  });
  const stdin = server.child.stdin!;
  stdin.on('error', () => {
    // The child may be gone already; its exit code tells.
  });
  const write = (message: unknown): void => {
    stdin.write(`${JSON.stringify(message)}\n`);
  };
  const answers: Promise<Response | undefined>[] = [];
  const request = (id: number, method: string, params: unknown, check?: (r: Response) => boolean): void => {
    answers.push(ledger.sent(id, method, check));
    write({ jsonrpc: '2.0', id, method, params });
  };
  request(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'chaos', version: '1' } });
  write({ jsonrpc: '2.0', method: 'notifications/initialized' });
  let id = 2;
  for (let i = env.rng.int(1, 3); i > 0; i--) {
    const ms = env.rng.int(100, 800);
    request(id++, 'tools/call', { name: 'sleep', arguments: { ms } }, (r) => textOf(r) === `slept ${ms} ms`);
  }
  request(id++, 'tools/call', { name: 'echo', arguments: { text: 'eof' } }, (r) => textOf(r) === 'eof');
  if (env.rng.chance(0.3)) write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0 } });
  stdin.end();

  const exit = await within(server.exited, 20_000);
  if (exit === undefined) {
    server.kill();
    env.unexpected(`${env.label} stdio: did not exit within 20 s of stdin EOF`);
    await server.exited;
    return;
  }
  // Every request was in before EOF: each must have its answer by now.
  ledger.close(() => false);
  if (exit.code !== 0) {
    env.stdio.crashes += 1;
    env.unexpected(`${env.label} stdio: exit ${exit.code ?? exit.signal}: ${server.stderr.slice(-5).join(' | ')}`);
  }
  env.stdio.unhandled.push(...exit.unhandled);
  if (exit.debug === undefined) env.unexpected(`${env.label} stdio: no debug-stats line at exit`);
  else {
    env.stdio.writesAfterClose += exit.debug.writesAfterClose;
    // At exit the supervisor has stopped: no actor is left alive.
    env.stdio.leakedActors += exit.debug.liveActors;
  }
}
