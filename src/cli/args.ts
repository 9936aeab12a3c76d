import { parseArgs, type ParseArgsConfig } from 'node:util';
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
  quiet: boolean;
  inspect: boolean;
  inspectPort: number | undefined;
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
  /** Worker processes (node:cluster); `'auto'`: the available parallelism; `undefined`: 1. */
  workers: number | 'auto' | undefined;
}

/**
 * The prefix of the environment variables that stand for the flags of `serve`: `--max-in-flight`
 * is `SESSION_SUPERVISOR_MAX_IN_FLIGHT`. A flag given on the command line wins over its variable.
 *
 * @example
 * ```ts
 * envName('--drain-timeout'); // 'SESSION_SUPERVISOR_DRAIN_TIMEOUT'
 * ```
 */
export const ENV_PREFIX = 'SESSION_SUPERVISOR_';

/**
 * The environment variable of a flag.
 *
 * @example
 * ```ts
 * envName('--port'); // 'SESSION_SUPERVISOR_PORT'
 * ```
 */
export const envName = (flag: string): string => `${ENV_PREFIX}${flag.slice(2).replace(/-/g, '_').toUpperCase()}`;

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
then "listening http://HOST:PORT/mcp" on stderr when ready, then the tools and how to connect
(unless --quiet).
On SIGTERM/SIGINT it drains, exits 0 and prints its lifetime counters as one JSON line on stderr;
a second signal forces the exit.

Options (each also read from an environment variable, shown in brackets; a flag wins):
  --host H                 interface to bind (default 127.0.0.1)            [SESSION_SUPERVISOR_HOST]
  --port N                 port to bind, 0 picks a free one (default 8787)  [SESSION_SUPERVISOR_PORT]
  --stdio                  serve one session over stdin/stdout instead      [SESSION_SUPERVISOR_STDIO=1]
                           (logs go to stderr)
  --drain-timeout MS       how long a draining session waits for its        [SESSION_SUPERVISOR_DRAIN_TIMEOUT]
                           requests (default 10000)
  --request-timeout MS     per-request deadline, 0 = off (default 0)        [SESSION_SUPERVISOR_REQUEST_TIMEOUT]
  --max-in-flight N        requests running at once per session (1024)      [SESSION_SUPERVISOR_MAX_IN_FLIGHT]
  --max-message-bytes N    largest inbound message (default 4194304)        [SESSION_SUPERVISOR_MAX_MESSAGE_BYTES]
  --log-level LEVEL        trace, debug, info, warn, error, fatal or silent [SESSION_SUPERVISOR_LOG_LEVEL]
                           (default info); JSON lines, readable on a TTY
  --quiet                  no tools / how-to-connect text after listening   [SESSION_SUPERVISOR_QUIET=1]
  --inspect                send every actor event to the Stately inspector  [SESSION_SUPERVISOR_INSPECT=1]
  --inspect-port N         port of the inspector's local server (default    [SESSION_SUPERVISOR_INSPECT_PORT]
                           8080)
  --metrics-port N         serve Prometheus metrics on http://HOST:N/metrics [SESSION_SUPERVISOR_METRICS_PORT]
  --dashboard-port N       serve the live dashboard on http://HOST:N/       [SESSION_SUPERVISOR_DASHBOARD_PORT]
  --http-path P            path of the Streamable HTTP endpoint (default   [SESSION_SUPERVISOR_HTTP_PATH]
                           /mcp)
  --max-sessions N         legacy HTTP sessions open at once, more get 503  [SESSION_SUPERVISOR_MAX_SESSIONS]
                           (default 10000)
  --session-idle-timeout MS  close an idle legacy HTTP session after MS,  [SESSION_SUPERVISOR_SESSION_IDLE_TIMEOUT]
                           0 = never (default 1800000)
  --allowed-origins LIST   comma-separated Origins allowed on HTTP and      [SESSION_SUPERVISOR_ALLOWED_ORIGINS]
                           WebSocket, or * for any (default: loopback
                           origins when bound to a loopback host)
  --shutdown-delay MS      after SIGTERM keep serving, /readyz answering    [SESSION_SUPERVISOR_SHUTDOWN_DELAY]
                           503, for MS before the drain (default 0; about
                           5000 behind Kubernetes or a load balancer)
  --cancel-grace MS        how long a cancelled handler may ignore its      [SESSION_SUPERVISOR_CANCEL_GRACE]
                           signal before it is abandoned (default 2000)
  --health-path P          liveness probe, 200 while the process answers    [SESSION_SUPERVISOR_HEALTH_PATH]
                           (default /healthz)
  --ready-path P           readiness probe, 503 from the first SIGTERM on   [SESSION_SUPERVISOR_READY_PATH]
                           (default /readyz)
  --workers N|auto         worker processes sharing the port (node:cluster, [SESSION_SUPERVISOR_WORKERS]
                           default 1; auto: one per core); legacy HTTP
                           sessions live in one worker: with N > 1 use
                           modern clients or WebSocket, or instances
                           behind HAProxy
  --help                   this text
`;

type Flag =
  | { name: string; key: 'host'; kind: 'string' }
  | { name: string; key: 'httpPath' | 'healthPath' | 'readyPath'; kind: 'path' }
  | { name: string; key: 'allowedOrigins'; kind: 'list' }
  | { name: string; key: 'maxSessions' | 'sessionIdleTimeoutMs'; kind: 'count' }
  | { name: string; key: 'port' | 'metricsPort' | 'dashboardPort' | 'inspectPort'; kind: 'port' }
  | { name: string; key: 'drainTimeoutMs' | 'requestTimeoutMs' | 'maxMessageBytes'; kind: 'count' | 'positive' }
  | { name: string; key: 'maxInFlight'; kind: 'positive' }
  | { name: string; key: 'workers'; kind: 'workers' }
  | { name: string; key: 'shutdownDelayMs' | 'cancelGraceMs'; kind: 'count' }
  | { name: string; key: 'logLevel'; kind: 'level' }
  | { name: string; key: 'stdio' | 'inspect' | 'quiet'; kind: 'switch' };

const FLAGS: readonly Flag[] = [
  { name: '--host', key: 'host', kind: 'string' },
  { name: '--port', key: 'port', kind: 'port' },
  { name: '--stdio', key: 'stdio', kind: 'switch' },
  { name: '--drain-timeout', key: 'drainTimeoutMs', kind: 'count' },
  { name: '--request-timeout', key: 'requestTimeoutMs', kind: 'count' },
  { name: '--max-in-flight', key: 'maxInFlight', kind: 'positive' },
  { name: '--max-message-bytes', key: 'maxMessageBytes', kind: 'positive' },
  { name: '--log-level', key: 'logLevel', kind: 'level' },
  { name: '--quiet', key: 'quiet', kind: 'switch' },
  { name: '--inspect', key: 'inspect', kind: 'switch' },
  { name: '--inspect-port', key: 'inspectPort', kind: 'port' },
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
  { name: '--workers', key: 'workers', kind: 'workers' },
];

/** node:util parseArgs sees every flag as a string (switches as booleans) and we check the values. */
const PARSE_OPTIONS: ParseArgsConfig['options'] = Object.fromEntries([
  ['help', { type: 'boolean', short: 'h' }],
  ...FLAGS.map((f) => [f.name.slice(2), { type: f.kind === 'switch' ? 'boolean' : 'string' }]),
]);

const INTEGER = /^(0|[1-9][0-9]*)$/;
const SWITCH_VALUES: Readonly<Record<string, boolean>> = { '1': true, true: true, yes: true, '0': false, false: false, no: false, '': false };

/** Check one raw value; `label` names its source in the message (`--port` or `SESSION_SUPERVISOR_PORT`). */
function readValue(flag: Flag, label: string, raw: string): string | number | boolean | string[] | { error: string } {
  switch (flag.kind) {
    case 'path':
      return /^\/[!-~]*$/.test(raw) ? raw : { error: `${label} must start with '/' and hold no spaces (got '${raw}')` };
    case 'list': {
      if (raw === '*') return raw;
      const items = raw.split(',').map((item) => item.trim());
      return items.every((item) => item.length > 0) ? items : { error: `${label} needs a comma-separated list or * (got '${raw}')` };
    }
    case 'string':
      return raw.length > 0 ? raw : { error: `${label} needs a non-empty value` };
    case 'level':
      return Object.hasOwn(LOG_LEVELS, raw) ? raw : { error: `${label} must be one of ${Object.keys(LOG_LEVELS).join(', ')} (got '${raw}')` };
    case 'port': {
      const n = INTEGER.test(raw) ? Number(raw) : NaN;
      return n >= 0 && n <= 65535 ? n : { error: `${label} must be an integer from 0 to 65535 (got '${raw}')` };
    }
    case 'workers': {
      if (raw === 'auto') return raw;
      const n = INTEGER.test(raw) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) && n >= 1 ? n : { error: `${label} must be an integer >= 1 or auto (got '${raw}')` };
    }
    case 'count':
    case 'positive': {
      const n = INTEGER.test(raw) ? Number(raw) : NaN;
      const min = flag.kind === 'positive' ? 1 : 0;
      return Number.isSafeInteger(n) && n >= min ? n : { error: `${label} must be an integer >= ${min} (got '${raw}')` };
    }
    case 'switch': {
      const value = SWITCH_VALUES[raw.toLowerCase()];
      return value ?? { error: `${label} must be 1 or 0 (got '${raw}')` };
    }
  }
}

const defaults = (): ServeOptions => ({
  kind: 'serve',
  host: '127.0.0.1',
  port: 8787,
  stdio: false,
  drainTimeoutMs: undefined,
  requestTimeoutMs: undefined,
  maxInFlight: undefined,
  maxMessageBytes: undefined,
  logLevel: 'info',
  quiet: false,
  inspect: false,
  inspectPort: undefined,
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
});

const setOption = (options: ServeOptions, flag: Flag, value: string | number | boolean | string[]): void => {
  (options as unknown as Record<string, unknown>)[flag.key] = value;
};

/**
 * Parse the arguments of `serve` (after the command name) with `node:util` parseArgs, over the
 * values of the `SESSION_SUPERVISOR_*` environment variables in `env` (a flag wins). `--flag value`
 * and `--flag=value` both work. Returns the options, `{ kind: 'help' }`, or
 * `{ kind: 'error', message }` for a bad flag or variable.
 *
 * @example
 * ```ts
 * parseServeArgs(['--port', '0', '--log-level', 'warn']); // { kind: 'serve', port: 0, … }
 * parseServeArgs([], { SESSION_SUPERVISOR_PORT: '9000' }); // { kind: 'serve', port: 9000, … }
 * parseServeArgs(['--port', 'x']); // { kind: 'error', message: "--port must be an integer …" }
 * ```
 */
export function parseServeArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ServeOptions | { kind: 'help' } | { kind: 'error'; message: string } {
  const options = defaults();
  for (const flag of FLAGS) {
    const raw = env[envName(flag.name)];
    if (raw === undefined) continue;
    const value = readValue(flag, envName(flag.name), raw);
    if (typeof value === 'object' && !Array.isArray(value)) return { kind: 'error', message: value.error };
    setOption(options, flag, value);
  }
  const { tokens } = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { kind: 'help' };
  const given = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') return { kind: 'error', message: `unknown option '${token.value}'` };
    if (token.kind === 'option-terminator') return { kind: 'error', message: `unknown option '--'` };
    const flag = FLAGS.find((f) => f.name === token.rawName);
    if (flag === undefined) {
      return { kind: 'error', message: `unknown option '${token.inlineValue === true ? `${token.rawName}=${token.value ?? ''}` : token.rawName}'` };
    }
    if (given.has(flag.name)) return { kind: 'error', message: `${flag.name} given twice` };
    given.add(flag.name);
    if (flag.kind === 'switch') {
      if (token.inlineValue === true) return { kind: 'error', message: `${flag.name} takes no value` };
      setOption(options, flag, true);
      continue;
    }
    const raw = token.value;
    if (raw === undefined || (token.inlineValue !== true && raw.startsWith('--'))) return { kind: 'error', message: `${flag.name} needs a value` };
    const value = readValue(flag, flag.name, raw);
    if (typeof value === 'object' && !Array.isArray(value)) return { kind: 'error', message: value.error };
    setOption(options, flag, value);
  }
  if (options.stdio && (given.has('--host') || given.has('--port'))) {
    return { kind: 'error', message: '--stdio cannot be combined with --host or --port' };
  }
  return options;
}
