// The Streamable HTTP faults of the chaos run, against the same server on the same port (`/mcp`):
// an SSE stream dropped mid-call (legacy: the answer is kept and delivered on resume; modern: the
// exchange closes before its answer), half-sent and oversize bodies, slow and bad headers, DELETE
// while a request runs, GET resumption with a stale or another session's Last-Event-ID, and a storm
// of initializes against the session cap. Every legacy session a fault opens is deleted again.
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { within } from './client.js';
import type { Fault, FaultEnv } from './faults.js';
import {
  answersTo,
  closeSession,
  eventIdsOf,
  LEGACY_VERSION,
  mcpUrl,
  messagesOf,
  openSession,
  request,
  sessionHeaders,
  shutdownExplains,
} from './http-session.js';
import { openSse, POST_HEADERS } from '../transports/http-harness.js';

const textOf = (m: { result?: unknown } | undefined): unknown => (m?.result as { content?: { text?: unknown }[] } | undefined)?.content?.[0]?.text;

/** Run `body` in a fresh legacy session, deleted afterwards; skipped when capped or refused by a shutdown. */
async function inSession(env: FaultEnv, body: (url: string, sessionId: string, generation: number) => Promise<void>): Promise<void> {
  const url = mcpUrl(env);
  const generation = env.run.generation;
  const sessionId = await openSession(env, url);
  if (sessionId === undefined || sessionId === 'capped') return;
  try {
    await body(url, sessionId, generation);
  } finally {
    await closeSession(env, url, sessionId, generation);
  }
}

/** Expect `status`, unless a shutdown since `generation` explains another answer. */
function expectStatus(env: FaultEnv, generation: number, got: number | undefined, want: number, what: string): void {
  if (got !== want && !shutdownExplains(env, generation)) env.unexpected(`${env.label} ${what}: got ${got ?? 'no answer'}, wanted ${want}`);
}

/** Legacy: drop a `sleep` call's SSE stream after its first event; resume with Last-Event-ID and get the answer once. */
const httpAbortMidSse: Fault = (env) =>
  inSession(env, async (url, sessionId, generation) => {
    const ms = env.rng.int(50, 300);
    env.figures.requests += 1;
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sleep', arguments: { ms }, _meta: { progressToken: 'p1' } } };
    let reader;
    try {
      reader = await within(openSse(url, { method: 'POST', headers: sessionHeaders(sessionId), body: JSON.stringify(body) }), 10_000);
    } catch {
      reader = undefined;
    }
    if (reader === undefined || reader.status !== 200) {
      expectStatus(env, generation, reader?.status, 200, 'sleep POST');
      reader?.drop();
      return;
    }
    const first = await within(reader.next(), 5_000).catch(() => undefined);
    reader.drop();
    if (first?.id === undefined) {
      if (!shutdownExplains(env, generation)) env.unexpected(`${env.label}: the SSE stream carried no event id before the drop`);
      return;
    }
    await sleep(ms + env.rng.int(20, 100));
    const resumed = await request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION, 'last-event-id': first.id } });
    if (resumed?.status !== 200) {
      expectStatus(env, generation, resumed?.status, 200, 'GET resume');
      return;
    }
    const answer = answersTo(env, messagesOf(resumed), 1);
    if (textOf(answer) !== `slept ${ms} ms` && answer?.error?.code !== -32000 && !shutdownExplains(env, generation)) {
      env.figures.unsettled += 1;
      env.unexpected(`${env.label}: resume after the drop gave ${resumed.text.slice(0, 160)}`);
    }
  });

/** Modern: a 2026-07-28 `tools/call sleep` whose client leaves before the answer (the exchange closes). */
const httpModernAbort: Fault = async (env) => {
  const url = mcpUrl(env);
  env.figures.requests += 1;
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'chaos', version: '1' } };
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 2_000 }, _meta: { ...meta, progressToken: 1 } } };
  const headers = { ...POST_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'sleep' };
  const reader = await within(openSse(url, { method: 'POST', headers, body: JSON.stringify(body) }), 10_000).catch(() => undefined);
  if (reader === undefined) return;
  if (env.rng.chance(0.5)) await within(reader.next(), 500).catch(() => undefined);
  reader.drop();
};

/** A raw TCP conversation: write `chunks` with `gapMs` between them, then wait for an answer or drop. */
async function rawExchange(env: FaultEnv, chunks: readonly string[], gapMs: number, waitForAnswer: boolean): Promise<string> {
  const target = new URL(mcpUrl(env));
  const socket = tcpConnect({ host: target.hostname, port: Number(target.port) });
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  try {
    for (const chunk of chunks) {
      if (socket.destroyed) break;
      socket.write(chunk);
      await sleep(gapMs);
    }
    if (waitForAnswer) await within(closed, 10_000);
  } finally {
    socket.destroy();
  }
  return received;
}

const ECHO = '{"jsonrpc":"2.0","id":7,"method":"echo","params":{"text":"drip"}}';
const head = (host: string, extra: string, length: number): string =>
  `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${extra}Content-Length: ${length}\r\nConnection: close\r\n\r\n`;

/** A body that stops half way: the client leaves with the body unfinished. */
const httpHalfBody: Fault = async (env) => {
  const target = new URL(mcpUrl(env));
  const cut = env.rng.int(1, ECHO.length - 1);
  await rawExchange(env, [head(target.host, '', ECHO.length), ECHO.slice(0, cut)], env.rng.int(5, 80), false);
};

/** A body over the server's limit: by Content-Length, or streamed chunked → 413 either way. */
const httpOversize: Fault = async (env) => {
  const url = mcpUrl(env);
  const generation = env.run.generation;
  const big = `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"${'x'.repeat(80_000)}"}}`;
  const response = env.rng.chance(0.5)
    ? await request(url, { method: 'POST', headers: { ...POST_HEADERS }, body: big })
    : await request(url, { method: 'POST', headers: { ...POST_HEADERS, 'transfer-encoding': 'chunked' }, body: big });
  expectStatus(env, generation, response?.status, 413, 'oversize body');
};

/** Headers that arrive a few bytes at a time: complete (then answered) or abandoned half way. */
const httpSlowHeaders: Fault = async (env) => {
  const target = new URL(mcpUrl(env));
  const generation = env.run.generation;
  const whole = head(target.host, '', ECHO.length) + ECHO;
  const complete = env.rng.chance(0.5);
  const upTo = complete ? whole.length : env.rng.int(5, whole.length - ECHO.length - 4);
  const chunks: string[] = [];
  for (let at = 0; at < upTo; at += 24) chunks.push(whole.slice(at, Math.min(upTo, at + 24)));
  const received = await rawExchange(env, chunks, 10, complete);
  if (complete && !received.includes('"text":"drip"') && !shutdownExplains(env, generation)) env.unexpected(`${env.label}: slow headers got ${received.slice(0, 120)}`);
};

/** Bad headers, each with its specified status. */
const httpBadHeaders: Fault = async (env) => {
  const url = mcpUrl(env);
  const target = new URL(url);
  const generation = env.run.generation;
  const kind = env.rng.int(0, 4);
  if (kind === 4) {
    // A header line node's parser refuses: 400 from the HTTP layer, no request reaches the handler.
    const received = await rawExchange(env, [`POST /mcp HTTP/1.1\r\nHost: ${target.host}\r\nBad Header Line\r\n\r\n`], 1, true);
    if (!received.startsWith('HTTP/1.1 400') && !shutdownExplains(env, generation)) env.unexpected(`${env.label}: malformed header got ${received.slice(0, 60)}`);
    return;
  }
  const cases = [
    { headers: { 'content-type': 'text/plain', accept: POST_HEADERS.accept }, want: 415 },
    { headers: { 'content-type': 'application/json', accept: 'text/html' }, want: 406 },
    { headers: { ...POST_HEADERS, origin: 'http://evil.example' }, want: 403 },
    { headers: { ...POST_HEADERS, host: 'evil.example' }, want: 403 },
  ] as const;
  const chosen = cases[kind]!;
  const response = await request(url, { method: 'POST', headers: { ...chosen.headers }, body: ECHO });
  expectStatus(env, generation, response?.status, chosen.want, `bad headers #${kind}`);
};

/** DELETE while a `sleep` runs: 200 at once, the answer still arrives on its stream, then the id → 404. */
const httpDeleteMidRequest: Fault = (env) =>
  inSession(env, async (url, sessionId, generation) => {
    const ms = env.rng.int(100, 400);
    env.figures.requests += 1;
    const body = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms } } };
    const reader = await within(openSse(url, { method: 'POST', headers: sessionHeaders(sessionId), body: JSON.stringify(body) }), 10_000).catch(() => undefined);
    if (reader === undefined || reader.status !== 200) {
      expectStatus(env, generation, reader?.status, 200, 'sleep POST');
      reader?.drop();
      return;
    }
    const deleted = await request(url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION } });
    expectStatus(env, generation, deleted?.status, 200, 'DELETE mid-request');
    const events = (await within(reader.rest(), 10_000)) ?? [];
    reader.drop();
    const answer = answersTo(env, events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data) as { id?: unknown; method?: string; result?: unknown; error?: { code: number } }), 2);
    if (textOf(answer) !== `slept ${ms} ms` && answer?.error?.code !== -32000 && answer?.error?.code !== -32800 && !shutdownExplains(env, generation)) {
      env.figures.unsettled += 1;
      env.unexpected(`${env.label}: DELETE mid-request lost the answer (${JSON.stringify(answer)})`);
    }
    const after = await request(url, { method: 'POST', headers: sessionHeaders(sessionId), body: '{"jsonrpc":"2.0","id":3,"method":"ping"}' });
    expectStatus(env, generation, after?.status, 404, 'request after DELETE');
  });

/** GET resumption with a made-up Last-Event-ID, or one from another session: 404 both. */
const httpStaleEventId: Fault = (env) =>
  inSession(env, async (url, sessionId, generation) => {
    const get = (id: string, session: string): ReturnType<typeof request> =>
      request(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': LEGACY_VERSION, 'last-event-id': id } });
    if (env.rng.chance(0.5)) {
      expectStatus(env, generation, (await get(`stale-${env.rng.int(0, 1e9)}`, sessionId))?.status, 404, 'stale Last-Event-ID');
      return;
    }
    await inSession(env, async (_url, other) => {
      env.figures.requests += 1;
      const pinged = await request(url, { method: 'POST', headers: sessionHeaders(other), body: '{"jsonrpc":"2.0","id":4,"method":"ping"}' });
      const foreignId = pinged === undefined ? undefined : eventIdsOf(pinged)[0];
      if (pinged !== undefined) answersTo(env, messagesOf(pinged), 4);
      if (foreignId === undefined) {
        if (!shutdownExplains(env, generation)) env.unexpected(`${env.label}: ping answer carried no event id (${pinged?.status ?? 'no answer'})`);
        return;
      }
      expectStatus(env, generation, (await get(foreignId, sessionId))?.status, 404, "another session's Last-Event-ID");
    });
  });

/** Many initializes at once: each gets a session or 503 with Retry-After at the cap; all deleted again. */
const httpSessionStorm: Fault = async (env) => {
  const url = mcpUrl(env);
  const generation = env.run.generation;
  const count = env.rng.int(45, 70); // above the chaos server's cap of 40
  const ids = await Promise.all(Array.from({ length: count }, () => openSession(env, url)));
  await Promise.all(ids.map((id) => (typeof id === 'string' && id !== 'capped' ? closeSession(env, url, id, generation) : Promise.resolve())));
};

/** The HTTP faults with their weights. */
export const HTTP_FAULTS: Readonly<Record<string, { weight: number; run: Fault }>> = {
  httpAbortMidSse: { weight: 1.5, run: httpAbortMidSse },
  httpModernAbort: { weight: 1, run: httpModernAbort },
  httpHalfBody: { weight: 1, run: httpHalfBody },
  httpOversize: { weight: 1, run: httpOversize },
  httpSlowHeaders: { weight: 1, run: httpSlowHeaders },
  httpBadHeaders: { weight: 1, run: httpBadHeaders },
  httpDeleteMidRequest: { weight: 1, run: httpDeleteMidRequest },
  httpStaleEventId: { weight: 1, run: httpStaleEventId },
  httpSessionStorm: { weight: 0.3, run: httpSessionStorm },
};
