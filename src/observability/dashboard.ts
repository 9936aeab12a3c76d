import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveHttp } from './listen.js';
import type { Supervisor } from '../supervisor.js';
import { DASHBOARD_PAGE } from './dashboard/page.js';
import { DashboardTracker } from './dashboard/tracker.js';

export type { DashboardView, HandlerView, SessionView } from './dashboard/tracker.js';

/**
 * Options of {@link startDashboard}.
 *
 * @example
 * ```ts
 * await startDashboard(supervisor, { port: 8790, intervalMs: 100 });
 * ```
 */
export interface DashboardOptions {
  /** Interface to bind. Default `'127.0.0.1'` (the page shows method names and ids: keep it local). */
  host?: string;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
  /** Shortest time between two pushes to the page, in ms (changes in between are merged). Default 50. */
  intervalMs?: number;
}

/**
 * A running live view.
 *
 * @example
 * ```ts
 * const dashboard = await startDashboard(supervisor);
 * console.log(`open ${dashboard.url}`);
 * await dashboard.close();
 * ```
 */
export interface Dashboard {
  /** The page's URL (`http://127.0.0.1:PORT/`). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serve a small, self-contained live view of a supervisor: its state and counters, every session
 * with its lifecycle (`connected` → `draining` → `closed`) and every handler actor (`running` →
 * `cancelling` → `done`, with the reason), updated in real time. It follows the actors through an
 * extra inspection observer on the supervisor's actor system (`supervisor.inspect`)
 * and the supervisor's events, and pushes the view to the page over Server-Sent Events. No
 * internet needed: the page has inline CSS and JS only.
 *
 * Routes: `GET /` the page, `GET /events` the event stream, `GET /state` the current view as JSON;
 * anything else → 404, other methods → 405.
 *
 * @example
 * ```ts
 * import { createSupervisor, startDashboard } from 'session-supervisor';
 *
 * const supervisor = createSupervisor({ methods });
 * const dashboard = await startDashboard(supervisor, { port: 8790 });
 * // open http://127.0.0.1:8790/ in a browser
 * ```
 */
export async function startDashboard(supervisor: Supervisor, options: DashboardOptions = {}): Promise<Dashboard> {
  const { host = '127.0.0.1', port = 0, intervalMs = 50 } = options;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`intervalMs must be a finite number >= 0 (got ${String(intervalMs)})`);
  const streams = new Set<ServerResponse>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const push = (): void => {
    timer = undefined;
    if (streams.size === 0) return;
    const frame = `event: view\ndata: ${JSON.stringify(tracker.view())}\n\n`;
    for (const stream of [...streams]) stream.write(frame);
  };
  const tracker = new DashboardTracker(supervisor, () => {
    if (timer !== undefined || closed || streams.size === 0) return;
    timer = setTimeout(push, intervalMs);
    timer.unref();
  });

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
    const known = path === '/' || path === '/events' || path === '/state';
    if (!known) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
      return;
    }
    if (path === '/') {
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
      });
      response.end(request.method === 'HEAD' ? undefined : DASHBOARD_PAGE);
      return;
    }
    if (path === '/state') {
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : JSON.stringify(tracker.view()));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    streams.add(response);
    response.on('close', () => streams.delete(response));
    response.write(`retry: 1000\nevent: view\ndata: ${JSON.stringify(tracker.view())}\n\n`);
  };

  const http = await serveHttp(handle, host, port, () => {
    closed = true;
    tracker.stop();
    if (timer !== undefined) clearTimeout(timer);
    for (const stream of [...streams]) stream.end();
    streams.clear();
  });
  return { url: `${http.origin}/`, close: () => http.close() };
}
