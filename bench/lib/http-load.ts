import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LoadWindow } from './load-window.js';
import { httpBody, httpHeaders, type HttpLoadKind } from './messages.js';
import { toResult, type LoadResult } from './stats.js';

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

/**
 * Drive `connections` keep-alive connections in a closed loop: each answer sends the next POST on
 * the same connection. Our own small client on `node:http` (an `Agent` with `keepAlive`), in this
 * process while the server runs in its own, like the ws rows. Only answers that arrive inside the
 * measured window count; an answer that is not a 200 echo (or, for `modern-sse`, not SSE with one
 * progress notification first) is an error. Bounded: it stops sending at the end of the window and
 * waits at most 10 s for the last answers.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const { kind, connections } = options;
  const url = new URL(options.url);
  const headers = httpHeaders(kind);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
  const loadWindow = new LoadWindow();
  let nextId = 1;
  const worker = async (): Promise<void> => {
    for (;;) {
      const id = nextId++;
      const sentAt = performance.now();
      loadWindow.sent();
      let answer: HttpAnswer;
      try {
        answer = await postOnce(agent, url, headers, httpBody(kind, id));
      } catch (error) {
        answer = { status: 0, message: { id, error: String(error) }, sse: false, progress: 0 };
      }
      const wrongShape = kind === 'modern-sse' ? !answer.sse || answer.progress !== 1 : answer.sse;
      const message = answer.status !== 200 || wrongShape || answer.message.id !== id ? { ...answer.message, error: answer.message.error ?? 'unexpected answer' } : answer.message;
      if (!loadWindow.answered(message, sentAt, performance.now())) return;
    }
  };
  const workers = Array.from({ length: connections }, () => worker());
  const { windowMs, cpuMs, clientCpuMs } = await loadWindow.run(options, options.serverPid);
  await Promise.race([Promise.all(workers), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  agent.destroy();
  const result = toResult(options.name, connections, 1, loadWindow.recorder, windowMs, loadWindow.errors, cpuMs);
  // The load client's own CPU (it shares the cores with the server).
  return loadWindow.recorder.count === 0 ? result : { ...result, clientCpuUsPerOp: Math.round((clientCpuMs * 100_000) / loadWindow.recorder.count) / 100 };
}
