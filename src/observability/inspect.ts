import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { InspectionEvent, Observer } from 'xstate';

/**
 * Options of {@link createCliInspector}.
 *
 * @example
 * ```ts
 * createCliInspector({ port: 8080 });                    // built-in relay on 127.0.0.1:8080
 * createCliInspector({ url: 'ws://127.0.0.1:8080' });   // send to a relay that already runs
 * ```
 */
export interface CliInspectorOptions {
  /**
   * Send the events to this WebSocket relay instead of starting one (for example a relay started
   * with `createInspectorServer()` from `@statelyai/inspect/server`). Reconnects while it is down.
   */
  url?: string;
  /** Port of the built-in relay. Default 8080 (the port `@statelyai/inspect` uses); 0 picks a free one. */
  port?: number;
  /** Interface of the built-in relay. Default `127.0.0.1`: inspection data stays on this machine. */
  host?: string;
  /** The Stately inspector UI the relay's page embeds. Default `https://stately.ai/inspect`. */
  inspectorUrl?: string;
  /** Events kept for pages that open late (relay) or while the relay is unreachable (url). Default 1000. */
  bufferSize?: number;
  /** Delay before reconnecting to `url`. Default 2000 ms. The timer never keeps the process alive. */
  retryMs?: number;
  /** Largest message the relay accepts from a client; larger ones close it with 1009. Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * What the relay's page tells the reader when the Stately inspector cannot be reached (offline,
   * blocked): for example where a local dashboard runs; a function is asked each time the page is
   * served. Default: a pointer to `startDashboard`.
   */
  offlineHint?: string | (() => string);
  /** How long the relay's page waits for the Stately inspector before it says it cannot reach it. Default 8000 ms. */
  offlineAfterMs?: number;
  /** Remove secrets from contexts before they leave the process. */
  sanitizeContext?: (context: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Socket and relay errors (the inspector never throws and never crashes the process). Repeated
   * failures to reach `url` are reported once until a connection succeeds. Default: one line on stderr.
   */
  onError?: (error: Error) => void;
  /**
   * Told once where to look: the page to open (built-in relay) or the relay the events go to.
   * Default: one line on stderr; `false` for silence.
   */
  announce?: ((line: string) => void) | false;
}

/**
 * Where the inspector sends: `url` is the WebSocket the events go to; `page` (built-in relay only)
 * is the page to open in a browser.
 *
 * @example
 * ```ts
 * const { page } = await inspector.ready;
 * console.error(`open ${page} to watch the actors`);
 * ```
 */
export interface CliInspectorAddress {
  url: string;
  page: string | undefined;
}

/**
 * An xstate inspection observer that forwards every actor, event and snapshot to the Stately
 * inspector. Pass it as the supervisor's `inspect` option.
 *
 * @example
 * ```ts
 * const inspector = createCliInspector();
 * const supervisor = createSupervisor({ methods, inspect: inspector });
 * await inspector.stop();
 * ```
 */
export interface CliInspector extends Observer<InspectionEvent> {
  next: (event: InspectionEvent) => void;
  /** Resolves once events can flow (the relay listens); rejects when the relay cannot listen. */
  readonly ready: Promise<CliInspectorAddress>;
  /** `true` while connected to `url`, or while at least one page is connected to the relay. */
  readonly connected: boolean;
  /** Stop: close the sockets and the relay, cancel any reconnect. Events after this are dropped. */
  stop(): Promise<void>;
}

// Close codes the relay answers bad client input with.
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_INVALID = 1007;

/** JSON text of an inspection event: cycles and functions dropped, bigints as strings. */
function serialize(event: StatelyInspectionEvent): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(event, (_key, value: unknown) => {
    if (typeof value === 'function') return undefined;
    if (typeof value === 'bigint') return value.toString();
    if (value !== null && typeof value === 'object') {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value;
  });
}

/** Keep only the inspected parts of a snapshot (an actor's snapshot also references its machine). */
function trim(event: StatelyInspectionEvent): StatelyInspectionEvent {
  if (event.type === '@xstate.event') return event;
  const s = (event.snapshot ?? {}) as { status?: unknown; value?: unknown; context?: unknown; output?: unknown; error?: unknown };
  const error = s.error instanceof Error ? { name: s.error.name, message: s.error.message } : s.error;
  return { ...event, snapshot: { status: s.status, value: s.value, context: s.context, output: s.output, error } } as unknown as StatelyInspectionEvent;
}

function isInspectionMessage(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string';
  } catch {
    return false;
  }
}

/** The default {@link CliInspectorOptions.offlineHint}. */
const DEFAULT_OFFLINE_HINT = 'For a local view that needs no network, serve the dashboard (startDashboard, or --dashboard-port in the CLI).';

const hintOf = (hint: CliInspectorOptions['offlineHint']): string => (typeof hint === 'function' ? hint() : (hint ?? DEFAULT_OFFLINE_HINT));

/**
 * The page the relay serves: it embeds the Stately inspector and posts each event into it. When
 * the inspector does not answer within `offlineAfterMs` (or the browser is offline), a banner says
 * so, with the hint, and counts the events that keep arriving.
 */
function bridgePage(wsUrl: string, inspectorUrl: string, offlineHint: string, offlineAfterMs: number): string {
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const js = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>session-supervisor — Stately inspector</title>
<style>html,body{height:100%;margin:0;font-family:system-ui,sans-serif}iframe{width:100%;height:100%;border:0}
#offline{display:none;padding:12px 16px;background:#fff3cd;color:#533f03;border-bottom:1px solid #e0c36c}
#offline.shown{display:block}</style></head>
<body><div id="offline" role="status">The Stately inspector at <code>${attr(inspectorUrl)}</code> could not be reached (no network, or blocked).
<span id="hint">${attr(offlineHint)}</span> Events received from the server so far: <b id="count">0</b>.</div>
<iframe id="inspector" src="${attr(inspectorUrl)}"></iframe>
<script>
const frame = document.getElementById('inspector');
const banner = document.getElementById('offline');
const counter = document.getElementById('count');
const pending = [];
let ready = false;
let received = 0;
const offline = () => { if (!ready) banner.className = 'shown'; };
if (navigator.onLine === false) offline();
window.addEventListener('offline', offline);
setTimeout(offline, ${offlineAfterMs});
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    ready = true;
    banner.className = '';
    for (const event of pending.splice(0)) frame.contentWindow.postMessage(event, '*');
  }
});
const ws = new WebSocket(${js(wsUrl)});
ws.onmessage = (m) => {
  const event = JSON.parse(m.data);
  received += 1;
  counter.textContent = String(received);
  if (ready) frame.contentWindow.postMessage(event, '*'); else pending.push(event);
};
</script></body></html>
`;
}

interface Sink {
  send(text: string): void;
  readonly connected: boolean;
  readonly ready: Promise<CliInspectorAddress>;
  stop(): Promise<void>;
}

/** Built-in relay: an HTTP page plus a WebSocket hub on one port; pages get a replay, then live events. */
function startRelay(options: CliInspectorOptions, onError: (error: Error) => void): Sink {
  const host = options.host ?? '127.0.0.1';
  const bufferSize = options.bufferSize ?? 1000;
  const inspectorUrl = options.inspectorUrl ?? 'https://stately.ai/inspect';
  const buffer: string[] = [];
  let address: CliInspectorAddress | undefined;
  const server: Server = createServer((req, res) => {
    if (address === undefined || (req.url !== '/' && req.url !== '/index.html')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(bridgePage(address.url, inspectorUrl, hintOf(options.offlineHint), options.offlineAfterMs ?? 8000));
  });
  // Browsers may only connect from the relay's own page (no cross-site reads of inspection data);
  // clients without an Origin (other processes) may connect and publish.
  const wss = new WebSocketServer({
    server,
    maxPayload: options.maxMessageBytes ?? 1024 * 1024,
    verifyClient: ({ origin }: { origin: string | undefined; req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
      const own = address?.page === undefined ? [] : [new URL(address.page).origin, `http://localhost:${new URL(address.page).port}`];
      done(origin === undefined || own.includes(origin), 403);
    },
  });
  const publish = (text: string, from?: WebSocket): void => {
    buffer.push(text);
    if (buffer.length > bufferSize) buffer.shift();
    for (const client of wss.clients) {
      if (client !== from && client.readyState === WebSocket.OPEN) client.send(text);
    }
  };
  wss.on('connection', (socket) => {
    for (const text of buffer) socket.send(text);
    socket.on('error', onError);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return socket.close(CLOSE_UNSUPPORTED, 'text frames only');
      const text = data.toString();
      if (!isInspectionMessage(text)) return socket.close(CLOSE_INVALID, 'not an inspection event');
      publish(text, socket);
    });
  });
  wss.on('error', onError);
  const ready = new Promise<CliInspectorAddress>((resolve, reject) => {
    // The WebSocketServer re-emits the HTTP server's errors: they reach onError through it.
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      const { port } = server.address() as AddressInfo;
      const where = host.includes(':') ? `[${host}]` : host;
      address = { url: `ws://${where}:${port}`, page: `http://${where}:${port}/` };
      resolve(address);
    });
  });
  ready.catch(() => {});
  return {
    ready,
    send: (text) => publish(text),
    get connected() {
      return wss.clients.size > 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Client of a relay at `url`: events wait in a bounded buffer while the socket is not open. */
function connectTo(url: string, options: CliInspectorOptions, onError: (error: Error) => void): Sink {
  const bufferSize = options.bufferSize ?? 1000;
  const retryMs = options.retryMs ?? 2000;
  const deferred: string[] = [];
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failing = false;
  const connect = (): void => {
    timer = undefined;
    if (stopped) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', () => {
      failing = false;
      for (const text of deferred.splice(0)) ws.send(text);
    });
    ws.on('message', () => {});
    ws.on('error', (error) => {
      if (stopped || failing) return;
      failing = true;
      onError(error);
    });
    ws.on('close', () => {
      if (socket === ws) socket = undefined;
      if (stopped || timer !== undefined) return;
      timer = setTimeout(connect, retryMs);
      timer.unref();
    });
  };
  connect();
  return {
    ready: Promise.resolve({ url, page: undefined }),
    send(text) {
      if (socket?.readyState === WebSocket.OPEN) return socket.send(text);
      deferred.push(text);
      if (deferred.length > bufferSize) deferred.shift();
    },
    get connected() {
      return socket?.readyState === WebSocket.OPEN;
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      deferred.length = 0;
      const ws = socket;
      if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'inspector stopped');
        else ws.terminate();
      });
    },
  };
}

/**
 * The inspector behind `session-supervisor serve --inspect`: an xstate inspection observer that
 * turns every `@xstate.actor`, `@xstate.event` and `@xstate.snapshot` of the supervisor, its
 * connections and their handlers into Stately inspection events (with `createInspector` from
 * `@statelyai/inspect`) and sends them over a WebSocket.
 *
 * By default it starts a relay on `127.0.0.1:8080`: open its page in a browser and the page embeds
 * the Stately inspector (`https://stately.ai/inspect`) and feeds it the events, late joiners
 * included (a replay of the last `bufferSize` events). With `url` it sends to a relay that already
 * runs instead. Unlike `createWebSocketInspector`, whose retry loop keeps running after `stop()`,
 * it never keeps the process alive, and its relay only listens on loopback, refuses pages from
 * other origins, and closes clients that send binary frames (1003), non-events (1007) or
 * oversized messages (1009).
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { createCliInspector } from './observability/inspect.js';
 *
 * const inspector = createCliInspector({ port: 8080 });
 * const { page } = await inspector.ready;
 * process.stderr.write(`inspect: open ${page}\n`);
 * const supervisor = createSupervisor({ methods: {}, inspect: inspector });
 * // … on shutdown:
 * await supervisor.close();
 * await inspector.stop();
 * ```
 */
export function createCliInspector(options: CliInspectorOptions = {}): CliInspector {
  const stderr = (line: string): void => void process.stderr.write(`${line}\n`);
  const onError = (error: Error): void => {
    try {
      if (options.onError !== undefined) options.onError(error);
      else stderr(`inspect: ${error.message}`);
    } catch {
      // a throwing error callback must not take the server down
    }
  };
  const sink = options.url === undefined ? startRelay(options, onError) : connectTo(options.url, options, onError);
  const announce = options.announce === undefined ? stderr : options.announce;
  if (announce !== false) {
    sink.ready.then(
      ({ url, page }) =>
        announce(
          page === undefined
            ? `inspect: sending actor events to ${url}`
            : `inspect: open ${page} in a browser to watch the actors in the Stately inspector`,
        ),
      () => {},
    );
  }
  let stopped = false;
  const inspector = createInspector(
    {
      send(event) {
        if (stopped) return;
        try {
          sink.send(serialize(trim(event)));
        } catch (error) {
          onError(error instanceof Error ? error : new Error(String(error)));
        }
      },
    },
    options.sanitizeContext === undefined ? {} : { sanitizeContext: options.sanitizeContext },
  );
  return {
    next: (event) => {
      if (!stopped) inspector.inspect.next?.(event);
    },
    ready: sink.ready,
    get connected() {
      return sink.connected;
    },
    stop() {
      stopped = true;
      return sink.stop();
    },
  };
}
