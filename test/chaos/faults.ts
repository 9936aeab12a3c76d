// The faults a chaos client draws from. Each runs one session against the live server and reports
// what it expected but did not see; the ledger of its connection checks the invariants on the way.
import { setTimeout as sleep } from 'node:timers/promises';
import { ChaosClient, within, type RunClock } from './client.js';
import type { LedgerFigures, Response } from './ledger.js';
import type { Rng } from './rng.js';
import { HTTP_FAULTS } from './http-faults.js';
import { runStdioSession } from './stdio-session.js';

/** What a fault gets from the run. */
export interface FaultEnv {
  url: string;
  rng: Rng;
  figures: LedgerFigures;
  run: RunClock;
  label: string;
  /** Record an expectation the server did not meet. */
  unexpected(message: string): void;
  /** Record stderr lines of a stdio server that went unhandled, its crash, its writes after close. */
  stdio: { crashes: number; unhandled: string[]; writesAfterClose: number; leakedActors: number };
}

export type Fault = (env: FaultEnv) => Promise<void>;

const textOf = (r: Response | undefined): unknown =>
  (r?.result as { content?: { text?: unknown }[] } | undefined)?.content?.[0]?.text;

/** The answer a sleep/echo should give, or a refusal/cancel that a shutdown in between explains. */
const expectText = (text: string) => (r: Response) => textOf(r) === text || r.error?.code === -32800 || r.error?.code === -32000;

async function connect(env: FaultEnv): Promise<ChaosClient | undefined> {
  const generation = env.run.generation;
  let client: ChaosClient;
  try {
    client = await ChaosClient.connect(env.url, env.figures, env.label, env.run);
  } catch (error) {
    // Refused while its server shuts down: expected. Otherwise the server stopped accepting.
    if (!env.run.shutdownStartedAt.has(generation)) env.unexpected(`${env.label}: connect failed: ${String(error)}`);
    return undefined;
  }
  if (await client.initialize()) return client;
  if (!client.serverShutDown) env.unexpected(`${env.label}: initialize failed (close ${String(client.closeCode)})`);
  await client.close();
  return undefined;
}

/** Expect every answer within `ms`, unless the server went away meanwhile. */
async function expectAnswers(env: FaultEnv, client: ChaosClient, answers: Promise<Response | undefined>[], ms: number, what: string): Promise<void> {
  const got = await within(Promise.all(answers), ms);
  if (got === undefined && client.open && !client.serverShutDown) {
    env.figures.unsettled += client.ledger.outstanding();
    env.unexpected(`${env.label} ${what}: ${client.ledger.outstanding()} request(s) unanswered after ${ms} ms`);
  }
}

/** Fail an expectation only if the server was not shut down meanwhile. */
function check(env: FaultEnv, client: ChaosClient, ok: boolean, message: string): void {
  if (ok) return;
  if (client.serverShutDown) return;
  env.unexpected(`${env.label} ${message}`);
}

const normal: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  const answers: Promise<Response | undefined>[] = [];
  for (let i = env.rng.int(3, 8); i > 0; i--) {
    const text = `t${env.rng.int(0, 1e9)}`;
    switch (env.rng.int(0, 4)) {
      case 0:
        answers.push(c.callTool('echo', { text }, expectText(text)).answer);
        break;
      case 1:
        answers.push(c.request('echo', { text }, { check: (r) => (r.result as { text?: unknown } | undefined)?.text === text || r.error !== undefined }).answer);
        break;
      case 2:
        answers.push(c.request('ping').answer);
        break;
      case 3:
        answers.push(c.callTool('fail', { message: text }, (r) => (r.result as { isError?: boolean } | undefined)?.isError === true || r.error !== undefined).answer);
        break;
      default:
        answers.push(c.request('tools/list').answer);
    }
  }
  await expectAnswers(env, c, answers, 10_000, 'normal');
  await c.close();
};

const longSleep: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  const answers: Promise<Response | undefined>[] = [];
  let longest = 0;
  for (let i = env.rng.int(1, 3); i > 0; i--) {
    const ms = env.rng.int(300, 2500);
    longest = Math.max(longest, ms);
    answers.push(c.callTool('sleep', { ms }, expectText(`slept ${ms} ms`)).answer);
  }
  answers.push(c.callTool('echo', { text: 'meanwhile' }, expectText('meanwhile')).answer);
  await expectAnswers(env, c, answers, longest + 8_000, 'long sleep');
  await c.close();
};

const stubbornSleep: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  const ms = env.rng.int(800, 1500);
  const { id } = c.callTool('stubborn_sleep', { ms });
  await sleep(env.rng.int(10, 80));
  c.cancel(id);
  // The handler ignores its signal and finishes later: its late answer must not go out.
  await sleep(ms + 200);
  const { answer } = c.request('ping');
  await expectAnswers(env, c, [answer], 5_000, 'ping after a stubborn cancel');
  await c.close();
};

const cancels: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  c.callTool('sleep', { ms: 2000 }, expectText('slept 2000 ms'));
  const zero = c.request('tools/call', { name: 'sleep', arguments: { ms: 1500 } }, { id: 0 });
  const sleeper = c.callTool('sleep', { ms: 3000 });
  const echo = c.callTool('echo', { text: 'done' }, expectText('done'));
  await sleep(env.rng.int(5, 40));
  c.cancel(sleeper.id);
  c.cancel(zero.id);
  await expectAnswers(env, c, [echo.answer], 5_000, 'echo before cancels');
  c.cancel(echo.id); // finished already
  c.cancel('no-such-request');
  c.cancel(987_654);
  await sleep(1_700);
  const { answer } = c.request('ping');
  await expectAnswers(env, c, [answer], 5_000, 'ping after cancels');
  await c.close();
};

const duplicateIds: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  const ms = env.rng.int(200, 600);
  const first = c.callTool('sleep', { ms }, expectText(`slept ${ms} ms`));
  c.request('tools/call', { name: 'echo', arguments: { text: 'dup' } }, { id: first.id });
  await expectAnswers(env, c, [first.answer], ms + 5_000, 'the original of a duplicate');
  check(env, c, c.ledger.nullErrors.includes(-32003), `duplicate id not refused with -32003 (null errors: ${c.ledger.nullErrors.join(',')})`);
  await c.close();
};

const resetMidRequest: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  c.callTool('sleep', { ms: 2000 });
  c.callTool('stubborn_sleep', { ms: 1000 });
  c.callTool('echo', { text: 'x' });
  await sleep(env.rng.int(1, 60));
  await c.reset();
};

const closeMidRequest: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  for (let i = env.rng.int(1, 4); i > 0; i--) c.callTool('sleep', { ms: env.rng.int(500, 2000) });
  await sleep(env.rng.int(1, 60));
  await c.close();
};

const slowReader: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  c.pauseReading();
  const text = 'r'.repeat(8 * 1024);
  const answers: Promise<Response | undefined>[] = [];
  for (let i = 0; i < 60; i++) {
    answers.push(c.callTool('echo', { text }, (r) => textOf(r) === text || r.error?.code === -32002 || r.error?.code === -32000).answer);
  }
  await sleep(env.rng.int(100, 500));
  c.resumeReading();
  await expectAnswers(env, c, answers, 15_000, 'slow reader');
  await c.close();
};

const stalledReader: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  // A reader that stops for seconds while its answers pile up past the high-water mark (8 MiB):
  // the server queues what it answered, refuses the rest with −32002, and the session lives on.
  c.pauseReading();
  const text = 's'.repeat(32 * 1024);
  const answers: Promise<Response | undefined>[] = [];
  for (let i = 0; i < 300; i++) {
    answers.push(c.callTool('echo', { text }, (r) => textOf(r) === text || r.error?.code === -32002 || r.error?.code === -32000).answer);
  }
  await sleep(env.rng.int(1_000, 2_000));
  c.resumeReading();
  // 9 MiB each way per stalled reader: on a saturated 2-core box this takes seconds; the budget is a hang guard.
  await expectAnswers(env, c, answers, 60_000, 'stalled reader');
  const { answer } = c.request('ping');
  await expectAnswers(env, c, [answer], 5_000, 'ping after a stalled reader');
  await c.close();
};

const malformedJson: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  c.sendRaw('{"jsonrpc":"2.0","id":1,"method":');
  c.sendRaw('{"jsonrpc":"2.0","id":{},"method":"tools/call"}');
  c.sendRaw('[]');
  c.sendRaw('null');
  const { answer } = c.request('ping');
  await expectAnswers(env, c, [answer], 5_000, 'ping after malformed JSON');
  const codes = c.ledger.nullErrors.join(',');
  check(env, c, codes === '-32700,-32600,-32600,-32600', `malformed JSON answered with ${codes}`);
  await c.close();
};

const invalidUtf8: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  const bad = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
  if (env.rng.chance(0.5)) {
    // A text frame that is not UTF-8 breaks the WebSocket protocol: close 1007.
    c.callTool('sleep', { ms: 1000 });
    c.sendRaw(bad, false);
    const code = await within(c.closed, 5_000);
    check(env, c, code === 1007, `invalid UTF-8 text frame: close ${String(code)}, expected 1007`);
    if (code === undefined) await c.close();
  } else {
    // A binary frame is read as UTF-8 text: a parse error, and the session lives.
    c.sendRaw(bad, true);
    const { answer } = c.request('ping');
    await expectAnswers(env, c, [answer], 5_000, 'ping after invalid UTF-8');
    check(env, c, c.ledger.nullErrors.includes(-32700), `invalid UTF-8 binary frame: null errors ${c.ledger.nullErrors.join(',')}`);
    await c.close();
  }
};

const oversize: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  c.callTool('sleep', { ms: 1000 });
  c.sendRaw(`{"jsonrpc":"2.0","id":"big","method":"echo","params":{"text":"${'o'.repeat(70_000)}"}}`);
  const code = await within(c.closed, 5_000);
  check(env, c, code === 1009, `oversize frame: close ${String(code)}, expected 1009`);
  if (code === undefined) await c.close();
};

const pingFlood: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  // A burst under ws's limit of 60 pongs pending is served; a bigger flood is cut off (no close frame: 1006).
  const hostile = env.rng.chance(0.5);
  const pings = hostile ? 300 : 40;
  if (hostile) c.abruptCloseExpected = true;
  const answers: Promise<Response | undefined>[] = [];
  for (let i = 0; i < pings; i++) {
    if (c.open) c.ws.ping();
    if (i % 4 === 0) answers.push(c.request('ping').answer);
  }
  await expectAnswers(env, c, answers, 10_000, `ping flood (${pings})`);
  check(env, c, hostile || c.open, `a burst of ${pings} pings closed the connection (${String(c.closeCode)})`);
  await c.close();
};

const slowDrip: Fault = async (env) => {
  const c = await connect(env);
  if (c === undefined) return;
  const text = `drip${env.rng.int(0, 1e6)}`;
  const id = c.freshId();
  const frame = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });
  const pieces = env.rng.int(5, 20);
  const size = Math.ceil(frame.length / pieces);
  let answer: Promise<Response | undefined> | undefined;
  for (let at = 0; at < frame.length; at += size) {
    if (!c.open) break;
    const last = at + size >= frame.length;
    // The request exists once its last fragment is on the way.
    if (last) answer = c.ledger.sent(id, 'tools/call', expectText(text));
    c.ws.send(frame.slice(at, at + size), { fin: last, binary: false });
    if (!last) await sleep(env.rng.int(2, 25));
  }
  if (answer !== undefined) await expectAnswers(env, c, [answer], 5_000, 'slow-drip frame');
  await c.close();
};

const stdinEof: Fault = (env) => runStdioSession(env);

/** Every fault with its weight (how often a client draws it). */
export const FAULTS: Readonly<Record<string, { weight: number; run: Fault }>> = {
  normal: { weight: 6, run: normal },
  longSleep: { weight: 2, run: longSleep },
  stubbornSleep: { weight: 1, run: stubbornSleep },
  cancels: { weight: 2, run: cancels },
  duplicateIds: { weight: 1, run: duplicateIds },
  resetMidRequest: { weight: 2, run: resetMidRequest },
  closeMidRequest: { weight: 2, run: closeMidRequest },
  slowReader: { weight: 1, run: slowReader },
  stalledReader: { weight: 0.5, run: stalledReader },
  malformedJson: { weight: 1, run: malformedJson },
  invalidUtf8: { weight: 1, run: invalidUtf8 },
  oversize: { weight: 1, run: oversize },
  pingFlood: { weight: 1, run: pingFlood },
  slowDrip: { weight: 1, run: slowDrip },
  stdinEof: { weight: 1, run: stdinEof },
  ...HTTP_FAULTS,
};
