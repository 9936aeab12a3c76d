import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { httpBody, httpHeaders, type HttpLoadKind } from './messages.js';
import { processesCpuMs } from './proc-cpu.js';
import { LatencyRecorder, toResult, type LoadResult } from './stats.js';

/** One closed-loop load run over HTTP/1.1 keep-alive connections. */
export interface HttpLoadOptions {
  name: string;
  url: string;
  kind: HttpLoadKind;
  /** Keep-alive connections, each with one request in flight (HTTP/1.1 has no multiplexing). */
  connections: number;
  warmupMs: number;
  measureMs: number;
  /** The server's pid (or a cluster's pids: primary and workers), to report its CPU per request. */
  serverPid?: number | readonly number[];
}

/** One answered POST as the load sees it. */
export interface HttpAnswer {
  status: number;
  /** The JSON-RPC answer (the response body, or the SSE event that carries the answer). */
  message: { id?: unknown; result?: unknown; error?: unknown };
  /** Whether it came as SSE, and how many progress notifications came before it. */
  sse: boolean;
  progress: number;
}

/** Read a response body: JSON, or SSE events (`data:` lines), into the answer and its progress count. */
export function parseAnswer(status: number, contentType: string | undefined, text: string): HttpAnswer {
  const sse = contentType?.startsWith('text/event-stream') ?? false;
  if (!sse) {
    let message: HttpAnswer['message'] = {};
    try {
      message = JSON.parse(text) as HttpAnswer['message'];
    } catch {
      message = { error: `not JSON: ${text.slice(0, 80)}` };
    }
    return { status, message, sse, progress: 0 };
  }
  let message: HttpAnswer['message'] = { error: 'no answer in the SSE stream' };
  let progress = 0;
  for (const block of text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data === '') continue;
    const value = JSON.parse(data) as { method?: string; id?: unknown };
    if (value.method === 'notifications/progress') progress += 1;
    else if (value.id !== undefined) message = value as HttpAnswer['message'];
  }
  return { status, message, sse, progress };
}

/**
 * One POST on `agent`, read to the end. Rejects on a socket error; bounded by the agent's sockets
 * (the load stops sending at the end of its window).
 */
export function postOnce(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.once('end', () => resolve(parseAnswer(res.statusCode ?? 0, res.headers['content-type'], text)));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC id of every load request: each modern POST is an exchange of its own, so one id serves all. */
const LOAD_ID = 7;

/**
 * Whether an HTTP answer body is the echo the load asked for: JSON for `modern` and `stateless`, SSE
 * with exactly one progress notification before the answer for `modern-sse`.
 */
export function isExpectedAnswer(kind: HttpLoadKind, text: string, id: number): boolean {
  const sse = !text.startsWith('{');
  const answer = parseAnswer(200, sse ? 'text/event-stream' : 'application/json', text);
  const wrongShape = kind === 'modern-sse' ? !answer.sse || answer.progress !== 1 : answer.sse;
  return !wrongShape && answer.message.error === undefined && answer.message.id === id && answer.message.result !== undefined;
}

/**
 * Drive `connections` keep-alive connections in a closed loop, one request in flight on each (HTTP/1.1
 * has no multiplexing), with autocannon: its client builds the request bytes once and parses
 * answers with http-parser-js, about a third of the CPU per request of a `node:http` client, so the
 * servers and not the client set the pace on a shared 2-core machine. Every answer body is checked
 * (`isExpectedAnswer`); a wrong body, a non-2xx status, a socket error or a timeout is an error.
 * Latency and throughput count only the answers inside the measured window, which follows the
 * warm-up on the same connections and lasts `measureMs`, or until the first answer when none came
 * in that time (at most 10 s more). Bounded: autocannon stops when the window closes.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const { kind, connections } = options;
  const pids = options.serverPid === undefined ? undefined : typeof options.serverPid === 'number' ? [options.serverPid] : options.serverPid;
  const serverCpu = (): number | undefined => (pids === undefined ? undefined : processesCpuMs(pids));
  const recorder = new LatencyRecorder();
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let finish: (error: unknown, totals: autocannon.Result | undefined) => void = () => {};
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finish = (error, totals) => (totals === undefined ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(totals));
  });
  const instance = autocannon(
    {
      url: options.url,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...httpHeaders(kind) },
      body: httpBody(kind, LOAD_ID),
      connections,
      pipelining: 1,
      // Past the window (which may wait for a first answer, see below); stopped when it closes.
      duration: (options.warmupMs + options.measureMs) / 1000 + 12,
      timeout: 10,
      verifyBody: (text) => isExpectedAnswer(kind, typeof text === 'string' ? text : String(text ?? ''), LOAD_ID),
    },
    (error, totals) => finish(error, totals),
  );
  let firstAnswer: () => void = () => {};
  instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
    if (phase !== 'measure') return;
    recorder.add(responseTimeMs);
    firstAnswer();
  });
  await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
  phase = 'measure';
  const cpu0 = serverCpu();
  const client0 = process.cpuUsage();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.measureMs));
  // A window without a single answer measures nothing (a short window on a loaded machine, a
  // server still cold): it stays open until the first answer, at most 10 s more.
  if (recorder.count === 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      firstAnswer = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  phase = 'stop';
  const windowMs = performance.now() - start;
  const cpu1 = serverCpu();
  const client = process.cpuUsage(client0);
  instance.stop();
  const totals = await done;
  const errors = totals.errors + totals.timeouts + totals.non2xx + totals.mismatches;
  const cpuMs = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  const result = toResult(options.name, connections, 1, recorder, windowMs, errors, cpuMs);
  // The load client's own CPU (it shares the cores with the server).
  return recorder.count === 0 ? result : { ...result, clientCpuUsPerOp: Math.round(((client.user + client.system) * 100) / recorder.count) / 100 };
}
