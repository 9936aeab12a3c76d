import type { IncomingMessage, ServerResponse } from 'node:http';
import { SupervisorError } from '../../jsonrpc/errors.js';

/**
 * What the probes read: a `Supervisor` is one (`ready` false from the first shutdown signal on).
 *
 * @example
 * ```ts
 * const target: ProbeTarget = supervisor;
 * ```
 */
export interface ProbeTarget {
  /** `true` while new sessions are accepted. */
  readonly accepting: boolean;
  /** `true` while running and not shutting down; without it, `accepting` decides. */
  readonly ready?: boolean;
}

/**
 * Paths of the liveness and readiness probes; `false` turns one off.
 *
 * @example
 * ```ts
 * const paths: ProbePaths = { healthPath: '/livez', readyPath: false };
 * ```
 */
export interface ProbePaths {
  /** Liveness: 200 while the process answers at all. Default `'/healthz'`. */
  healthPath?: string | false;
  /** Readiness: 200 while running and accepting, 503 from the first shutdown signal on. Default `'/readyz'`. */
  readyPath?: string | false;
}

function checkPath(name: string, path: string | false | undefined, fallback: string): string | undefined {
  if (path === false) return undefined;
  const value = path ?? fallback;
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new SupervisorError('ERR_INVALID_OPTION', `${name} must start with '/' or be false (got ${String(value)})`);
  }
  return value;
}

function answer(response: ServerResponse, status: number, body: object, head: boolean): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  response.end(head ? undefined : text);
}

/**
 * Make the probe router: returns `true` when it answered the request (GET or HEAD on a probe path;
 * another method there → 405), `false` for any other path.
 *
 * @example
 * ```ts
 * const probes = createProbes(supervisor, () => accepting, {});
 * createServer((req, res) => probes(req, res) || handler(req, res));
 * ```
 */
export function createProbes(
  target: ProbeTarget,
  listenerAccepting: () => boolean,
  paths: ProbePaths,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const health = checkPath('healthPath', paths.healthPath, '/healthz');
  const ready = checkPath('readyPath', paths.readyPath, '/readyz');
  return (request, response) => {
    const url = request.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== health && path !== ready) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }).end();
      return true;
    }
    const head = request.method === 'HEAD';
    if (path === health) {
      answer(response, 200, { status: 'live' }, head);
      return true;
    }
    const isReady = (target.ready ?? target.accepting) && listenerAccepting();
    answer(response, isReady ? 200 : 503, { status: isReady ? 'ready' : 'unready' }, head);
    return true;
  };
}
