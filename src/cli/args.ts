import { LOG_LEVELS, type LogLevel } from './logger.js';

/**
 * The options of `session-supervisor serve`, parsed.
 *
 * @example
 * ```ts
 * const options: ServeOptions = parseServeArgs(['--port', '0']) as ServeOptions;
 * ```
 */
export interface ServeOptions {
  kind: 'serve';
  host: string;
  port: number;
  stdio: boolean;
  drainTimeoutMs: number | undefined;
  requestTimeoutMs: number | undefined;
  maxInFlight: number | undefined;
  maxMessageBytes: number | undefined;
  logLevel: LogLevel;
  inspect: boolean;
  metricsPort: number | undefined;
  dashboardPort: number | undefined;
  /** Path of the Streamable HTTP endpoint on the same port (default `/mcp`). */
  httpPath: string;
  maxSessions: number | undefined;
  sessionIdleTimeoutMs: number | undefined;
  /** Origins allowed on HTTP and WebSocket (`*`: any); default the loopback origins on a loopback host. */
  allowedOrigins: string[] | '*' | undefined;
  /** After the first SIGTERM, keep serving (unready) for this long (ms). Default 0. */
  shutdownDelayMs: number;
  /** How long a cancelled handler may ignore its signal before it is abandoned (ms). */
  cancelGraceMs: number | undefined;
  /** Liveness and readiness probe paths on the serving port (and the metrics port). */
  healthPath: string;
  readyPath: string;
  /** Worker processes (node:cluster); `undefined`: the available parallelism. */
  workers: number | undefined;
}

/**
 * The usage text of `session-supervisor serve`.
 *
 * @example
 * ```ts
 * process.stdout.write(SERVE_USAGE);
 * ```
 */
export const SERVE_USAGE = `Usage: session-supervisor serve [options]

Serves the demo MCP server (tools: echo, sleep, stubborn_sleep, fail; plain JSON-RPC method: echo).
Over WebSocket and Streamable HTTP on one port by default: prints "listening ws://HOST:PORT",
then "listening http://HOST:PORT/mcp" on stderr when ready.
On SIGTERM/SIGINT it drains, exits 0 and prints its lifetime counters as one JSON line on stderr.

Options:
  --host H                 interface to bind (default 127.0.0.1)
  --port N                 port to bind, 0 picks a free one (default 8787)
  --stdio                  serve one session over stdin/stdout instead (logs go to stderr)
  --drain-timeout MS       how long a draining session waits for its requests (default 10000)
  --request-timeout MS     per-request deadline, 0 = off (default 0)
  --max-in-flight N        requests running at once per session (default 1024)
  --max-message-bytes N    largest inbound message (default 4194304)
  --log-level LEVEL        trace, debug, info, warn, error, fatal or silent (default info)
  --inspect                send every actor event to the Stately inspector
  --metrics-port N         serve Prometheus metrics on http://HOST:N/metrics
  --dashboard-port N       serve the live dashboard on http://HOST:N/
  --http-path P            path of the Streamable HTTP endpoint (default /mcp)
  --max-sessions N         legacy HTTP sessions open at once, more get 503 (default 10000)
  --session-idle-timeout MS  close an idle legacy HTTP session after MS, 0 = never (default 1800000)
  --allowed-origins LIST   comma-separated Origins allowed on HTTP and WebSocket, or * for any
                           (default: loopback origins when bound to a loopback host)
  --shutdown-delay MS      after SIGTERM keep serving, with /readyz answering 503, for MS before
                           the drain starts (default 0; about 5000 behind Kubernetes or a balancer)
  --cancel-grace MS        how long a cancelled handler may ignore its signal (default 2000)
  --health-path P          liveness probe path, 200 while the process answers (default /healthz)
  --ready-path P           readiness probe path, 503 from the first SIGTERM on (default /readyz)
  --workers N              worker processes sharing the port (node:cluster; default 1). Legacy
                           HTTP sessions live in one worker: with N > 1 use modern clients
                           or WebSocket, or run instances behind HAProxy instead
  --help                   this text
`;

type Flag =
  | { name: string; key: 'host'; kind: 'string' }
  | { name: string; key: 'httpPath' | 'healthPath' | 'readyPath'; kind: 'path' }
  | { name: string; key: 'allowedOrigins'; kind: 'list' }
  | { name: string; key: 'maxSessions' | 'sessionIdleTimeoutMs'; kind: 'count' }
  | { name: string; key: 'port' | 'metricsPort' | 'dashboardPort'; kind: 'port' }
  | { name: string; key: 'drainTimeoutMs' | 'requestTimeoutMs' | 'maxMessageBytes'; kind: 'count' | 'positive' }
  | { name: string; key: 'maxInFlight' | 'workers'; kind: 'positive' }
  | { name: string; key: 'shutdownDelayMs' | 'cancelGraceMs'; kind: 'count' }
  | { name: string; key: 'logLevel'; kind: 'level' }
  | { name: string; key: 'stdio' | 'inspect'; kind: 'switch' };

const FLAGS: readonly Flag[] = [
  { name: '--host', key: 'host', kind: 'string' },
  { name: '--port', key: 'port', kind: 'port' },
  { name: '--stdio', key: 'stdio', kind: 'switch' },
  { name: '--drain-timeout', key: 'drainTimeoutMs', kind: 'count' },
  { name: '--request-timeout', key: 'requestTimeoutMs', kind: 'count' },
  { name: '--max-in-flight', key: 'maxInFlight', kind: 'positive' },
  { name: '--max-message-bytes', key: 'maxMessageBytes', kind: 'positive' },
  { name: '--log-level', key: 'logLevel', kind: 'level' },
  { name: '--inspect', key: 'inspect', kind: 'switch' },
  { name: '--metrics-port', key: 'metricsPort', kind: 'port' },
  { name: '--dashboard-port', key: 'dashboardPort', kind: 'port' },
  { name: '--http-path', key: 'httpPath', kind: 'path' },
  { name: '--max-sessions', key: 'maxSessions', kind: 'count' },
  { name: '--session-idle-timeout', key: 'sessionIdleTimeoutMs', kind: 'count' },
  { name: '--allowed-origins', key: 'allowedOrigins', kind: 'list' },
  { name: '--shutdown-delay', key: 'shutdownDelayMs', kind: 'count' },
  { name: '--cancel-grace', key: 'cancelGraceMs', kind: 'count' },
  { name: '--health-path', key: 'healthPath', kind: 'path' },
  { name: '--ready-path', key: 'readyPath', kind: 'path' },
  { name: '--workers', key: 'workers', kind: 'positive' },
];

const INTEGER = /^(0|[1-9][0-9]*)$/;

function readValue(flag: Flag, raw: string): string | number | string[] | { error: string } {
  switch (flag.kind) {
    case 'path':
      return /^\/[!-~]*$/.test(raw) ? raw : { error: `${flag.name} must start with '/' and hold no spaces (got '${raw}')` };
    case 'list': {
      if (raw === '*') return raw;
      const items = raw.split(',').map((item) => item.trim());
      return items.every((item) => item.length > 0) ? items : { error: `${flag.name} needs a comma-separated list or * (got '${raw}')` };
    }
    case 'string':
      return raw.length > 0 ? raw : { error: `${flag.name} needs a non-empty value` };
    case 'level':
      return Object.hasOwn(LOG_LEVELS, raw)
        ? raw
        : { error: `${flag.name} must be one of ${Object.keys(LOG_LEVELS).join(', ')} (got '${raw}')` };
    case 'port': {
      const n = INTEGER.test(raw) ? Number(raw) : NaN;
      return n >= 0 && n <= 65535 ? n : { error: `${flag.name} must be an integer from 0 to 65535 (got '${raw}')` };
    }
    case 'count':
    case 'positive': {
      const n = INTEGER.test(raw) ? Number(raw) : NaN;
      const min = flag.kind === 'positive' ? 1 : 0;
      return Number.isSafeInteger(n) && n >= min ? n : { error: `${flag.name} must be an integer >= ${min} (got '${raw}')` };
    }
    case 'switch':
      return { error: `${flag.name} takes no value` };
  }
}

/**
 * Parse the arguments of `serve` (after the command name). `--flag value` and `--flag=value` both
 * work. Returns the options, `{ kind: 'help' }`, or `{ kind: 'error', message }` for a bad flag.
 *
 * @example
 * ```ts
 * parseServeArgs(['--port', '0', '--log-level', 'warn']); // { kind: 'serve', port: 0, … }
 * parseServeArgs(['--port', 'x']); // { kind: 'error', message: "--port must be an integer …" }
 * ```
 */
export function parseServeArgs(argv: readonly string[]): ServeOptions | { kind: 'help' } | { kind: 'error'; message: string } {
  const options: ServeOptions = {
    kind: 'serve',
    host: '127.0.0.1',
    port: 8787,
    stdio: false,
    drainTimeoutMs: undefined,
    requestTimeoutMs: undefined,
    maxInFlight: undefined,
    maxMessageBytes: undefined,
    logLevel: 'info',
    inspect: false,
    metricsPort: undefined,
    dashboardPort: undefined,
    httpPath: '/mcp',
    maxSessions: undefined,
    sessionIdleTimeoutMs: undefined,
    allowedOrigins: undefined,
    shutdownDelayMs: 0,
    cancelGraceMs: undefined,
    healthPath: '/healthz',
    readyPath: '/readyz',
    workers: undefined,
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS.find((f) => f.name === name);
    if (flag === undefined) return { kind: 'error', message: `unknown option '${arg}'` };
    if (given.has(flag.name)) return { kind: 'error', message: `${flag.name} given twice` };
    given.add(flag.name);
    if (flag.kind === 'switch') {
      if (eq > 0) return { kind: 'error', message: `${flag.name} takes no value` };
      options[flag.key] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq > 0) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      i += 1;
    }
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) return { kind: 'error', message: `${flag.name} needs a value` };
    const value = readValue(flag, raw);
    if (typeof value === 'object' && !Array.isArray(value)) return { kind: 'error', message: value.error };
    (options as unknown as Record<string, unknown>)[flag.key] = value;
  }
  if (options.stdio && (given.has('--host') || given.has('--port'))) {
    return { kind: 'error', message: '--stdio cannot be combined with --host or --port' };
  }
  return options;
}
