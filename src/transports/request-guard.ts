import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { memoizeByValue } from './memo.js';

/**
 * Who may reach a listener, checked on every HTTP request and WebSocket upgrade before any actor
 * exists: the `Host` and `Origin` headers against allow-lists (DNS-rebinding protection), then an
 * `authenticate` hook. Shared by the WebSocket and the Streamable HTTP listeners.
 *
 * @example
 * ```ts
 * const options: RequestGuardOptions = {
 *   allowedHosts: ['mcp.example.com'],
 *   allowedOrigins: ['https://app.example.com'],
 *   authenticate: (request) => request.headers.authorization === `Bearer ${process.env.TOKEN}`,
 * };
 * ```
 */
export interface RequestGuardOptions {
  /**
   * Host names (optionally `name:port`) a request's `Host` header may carry; another → HTTP 403.
   * `'*'` allows any. Default: the loopback names (`localhost`, `127.0.0.1`, `[::1]`, any port) when
   * the listener is bound to a loopback address, any otherwise.
   */
  allowedHosts?: readonly string[] | '*';
  /**
   * Origins (`scheme://host[:port]`) allowed to connect; a request with another `Origin` header →
   * HTTP 403 (no `Origin` header is always allowed: it is not a browser). `'*'` allows any. Default:
   * loopback origins (`http(s)://localhost|127.0.0.1|[::1]` on any port) when bound to a loopback
   * address, any otherwise.
   */
  allowedOrigins?: readonly string[] | '*';
  /** Decide on every request before any actor exists: `false` → HTTP 401; a throw or rejection → HTTP 500. */
  authenticate?(request: IncomingMessage): boolean | Promise<boolean>;
}

/**
 * Why the host/origin check refused a request, or `undefined` when it passed.
 *
 * @example
 * ```ts
 * const refusal: HostRefusal | undefined = policy.check(request); // 'host' | 'origin' | undefined
 * ```
 */
export type HostRefusal = 'host' | 'origin';

/**
 * A resolved host/origin policy (see {@link resolveHostPolicy}).
 *
 * @example
 * ```ts
 * const policy = resolveHostPolicy('127.0.0.1', {});
 * if (policy.check(request) !== undefined) response.writeHead(403).end();
 * ```
 */
export interface HostPolicy {
  /** `undefined` when the request may go on, else which header was refused. */
  check(request: IncomingMessage): HostRefusal | undefined;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Whether a bind address or host name is a loopback one (`localhost`, `127.0.0.0/8`, `::1`).
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('0.0.0.0'); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  return bare === '::1' || bare === '::ffff:127.0.0.1';
}

/** Split `name:port`, `[v6]:port` or a bare name; names are lower-cased. */
function splitHostHeader(value: string): { name: string; port: string | undefined } | undefined {
  const text = value.trim().toLowerCase();
  if (text.length === 0) return undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    const rest = text.slice(end + 1);
    if (rest !== '' && !/^:[0-9]{1,5}$/.test(rest)) return undefined;
    return { name: text.slice(0, end + 1), port: rest === '' ? undefined : rest.slice(1) };
  }
  const colon = text.indexOf(':');
  if (colon < 0) return { name: text, port: undefined };
  const port = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(port)) return undefined;
  return { name: text.slice(0, colon), port };
}

/** The origin's `host[:port]` part, lower-cased, or `undefined` for `null` and other opaque origins. */
function originHost(origin: string): { scheme: string; host: string } | undefined {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)$/i.exec(origin.trim());
  if (match === null) return undefined;
  return { scheme: match[1]!.toLowerCase(), host: match[2]!.toLowerCase() };
}

function hostAllowed(list: readonly string[] | '*' | 'loopback', header: string | undefined): boolean {
  if (list === '*') return true;
  // HTTP/1.1 requires Host; an HTTP/1.0 request without one cannot be a rebinding browser.
  if (header === undefined) return true;
  const parsed = splitHostHeader(header);
  if (parsed === undefined) return false;
  if (list === 'loopback') return isLoopbackHost(parsed.name);
  for (const entry of list) {
    const allowed = splitHostHeader(entry);
    if (allowed === undefined || allowed.name !== parsed.name) continue;
    if (allowed.port === undefined || allowed.port === parsed.port) return true;
  }
  return false;
}

function originAllowed(list: readonly string[] | '*' | 'loopback', header: string | undefined): boolean {
  if (list === '*' || header === undefined) return true;
  if (list === 'loopback') {
    const parsed = originHost(header);
    if (parsed === undefined || (parsed.scheme !== 'http' && parsed.scheme !== 'https')) return false;
    const host = splitHostHeader(parsed.host);
    return host !== undefined && isLoopbackHost(host.name);
  }
  const normalized = header.trim().toLowerCase();
  return list.some((entry) => entry.trim().toLowerCase() === normalized);
}

/**
 * Resolve the `Host` / `Origin` allow-lists for a listener bound to `bindHost`: the defaults are the
 * loopback names when `bindHost` is a loopback address and "any" otherwise; explicit lists replace
 * them (`'*'` allows any).
 *
 * @example
 * ```ts
 * const policy = resolveHostPolicy('127.0.0.1', { allowedOrigins: ['https://app.example.com'] });
 * policy.check(request); // 'origin' for Origin: https://evil.example
 * ```
 */
export function resolveHostPolicy(bindHost: string, options: Pick<RequestGuardOptions, 'allowedHosts' | 'allowedOrigins'>): HostPolicy {
  const loopback = isLoopbackHost(bindHost);
  const hosts = options.allowedHosts ?? (loopback ? 'loopback' : '*');
  const origins = options.allowedOrigins ?? (loopback ? 'loopback' : '*');
  // Verdicts per distinct header value: a client sends the same Host and Origin every time.
  const hostVerdict = memoizeByValue((value) => hostAllowed(hosts, value));
  const originVerdict = memoizeByValue((value) => originAllowed(origins, value));
  return {
    check(request) {
      const { host, origin } = request.headers;
      if (host !== undefined && !hostVerdict(host)) return 'host';
      if (origin !== undefined && !originVerdict(origin)) return 'origin';
      return undefined;
    },
  };
}

/**
 * The verdict of an `authenticate` hook: `'ok'`, `'unauthorized'` (it answered anything but
 * `true`), or `'error'` (it threw or rejected).
 *
 * @example
 * ```ts
 * const verdict: AuthVerdict = await authenticateRequest(options.authenticate, request);
 * ```
 */
export type AuthVerdict = 'ok' | 'unauthorized' | 'error';

/**
 * Run an `authenticate` hook (none → `'ok'`); never throws.
 *
 * @example
 * ```ts
 * const verdict = await authenticateRequest((r) => r.headers.authorization === 'Bearer t', request);
 * if (verdict === 'unauthorized') response.writeHead(401).end();
 * ```
 */
export async function authenticateRequest(
  authenticate: RequestGuardOptions['authenticate'],
  request: IncomingMessage,
): Promise<AuthVerdict> {
  if (authenticate === undefined) return 'ok';
  try {
    return (await authenticate(request)) === true ? 'ok' : 'unauthorized';
  } catch {
    return 'error';
  }
}
