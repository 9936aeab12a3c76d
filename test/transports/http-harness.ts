/**
 * Small raw HTTP clients for the Streamable HTTP tests: exact headers (Host, Origin, no Accept), SSE
 * read event by event, and a way to drop the connection mid-stream.
 */
import { WebSocket, type ClientOptions } from 'ws';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ClientRequest } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): unknown;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  path?: string;
}

/** The headers a well-behaved client sends on a POST. */
export const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

function send(url: string, options: RawOptions): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const target = new URL(url);
  const req = httpRequest({
    host: target.hostname,
    port: target.port,
    path: options.path ?? target.pathname,
    method: options.method ?? 'POST',
    headers: options.headers ?? {},
    agent: false,
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  if (options.body !== undefined) req.end(options.body);
  else req.end();
  return { req, response };
}

/** One request, read to the end. */
export async function raw(url: string, options: RawOptions = {}): Promise<RawResponse> {
  const { response } = send(url, options);
  const res = await response;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

/** POST one JSON-RPC body with the usual headers (plus `headers`). */
export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(url, { method: 'POST', headers: { ...POST_HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

export interface SseEvent {
  id: string | undefined;
  data: string;
}

/** An open response read as SSE events, one at a time. */
export interface SseReader {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The next event (comments skipped); rejects if the stream ends first. */
  next(): Promise<SseEvent>;
  /** Every remaining event until the server ends the stream. */
  rest(): Promise<SseEvent[]>;
  /** Drop the connection (the client goes away). */
  drop(): void;
  /** Resolves when the server ended the response or the connection closed. */
  readonly ended: Promise<void>;
}

/** Send a request and read its response as SSE. */
export async function openSse(url: string, options: RawOptions): Promise<SseReader> {
  const { req, response } = send(url, options);
  const res = await response;
  res.setEncoding('utf8');
  const queue: SseEvent[] = [];
  const waiters: Array<{ resolve: (event: SseEvent) => void; reject: (error: Error) => void }> = [];
  let buffer = '';
  let done = false;
  const ended = new Promise<void>((resolve) => {
    const finish = (): void => {
      if (done) return;
      done = true;
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('stream ended'));
      resolve();
    };
    res.once('end', finish);
    res.once('close', finish);
    res.once('error', finish);
  });
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let id: string | undefined;
      const data: string[] = [];
      let hasData = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        if (line.startsWith('id:')) id = line.slice(3).trim();
        if (line.startsWith('data:')) {
          hasData = true;
          data.push(line.slice(5).replace(/^ /, ''));
        }
      }
      if (!hasData && id === undefined) continue;
      const event = { id, data: data.join('\n') };
      const waiter = waiters.shift();
      if (waiter !== undefined) waiter.resolve(event);
      else queue.push(event);
    }
  });
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    ended,
    next() {
      const event = queue.shift();
      if (event !== undefined) return Promise.resolve(event);
      if (done) return Promise.reject(new Error('stream ended'));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async rest() {
      await ended;
      return queue.splice(0);
    },
    drop() {
      req.destroy();
      res.destroy();
    },
  };
}

/** Try a WebSocket upgrade: `'open'` or the HTTP status of the refusal (`-1`: closed before either). */
export async function upgrade(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<number | 'open'> {
  const { protocols, ...rest } = options;
  const ws = new WebSocket(url, protocols ?? [], rest);
  ws.on('error', () => {});
  const outcome = await new Promise<number | 'open'>((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    ws.once('close', () => resolve(-1));
  });
  ws.terminate();
  return outcome;
}
