import { pino, stdSerializers } from 'pino';
import type { Logger } from '../runtime/logger.js';

/**
 * The log levels of the CLI logger, with pino's numbers.
 *
 * @example
 * ```ts
 * LOG_LEVELS.warn; // 40
 * ```
 */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/**
 * A level name of {@link LOG_LEVELS}.
 *
 * @example
 * ```ts
 * const level: LogLevel = 'debug';
 * ```
 */
export type LogLevel = keyof typeof LOG_LEVELS;

/**
 * A pino logger that can be silenced (so a final line stays the last one).
 *
 * @example
 * ```ts
 * const logger: CliLogger = createCliLogger('info', { write: (line) => process.stderr.write(line) });
 * logger.silence();
 * ```
 */
export interface CliLogger extends Logger {
  /** Drop everything from now on. */
  silence(): void;
}

/**
 * Options of {@link createCliLogger}.
 *
 * @example
 * ```ts
 * const options: CliLoggerOptions = { write: (line) => process.stderr.write(line), pretty: process.stderr.isTTY };
 * ```
 */
export interface CliLoggerOptions {
  /** Where each line goes (synchronously, in order with other writes). */
  write: (line: string) => void;
  /** Readable lines (`12:00:01 INFO  session s1 opened over ws`) instead of JSON. Default false. */
  pretty?: boolean;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Fields every entry has, left out of a readable line. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * Turn one pino JSON line into a readable one: time, level, message, then the other fields as
 * `key=value` (an error as its message). A line that is not JSON passes through unchanged.
 *
 * @example
 * ```ts
 * formatLine('{"level":30,"time":0,"msg":"session s1 opened","sessionId":"s1"}\n');
 * // '00:00:00 INFO  session s1 opened sessionId=s1\n' (local time)
 * ```
 */
export function formatLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now());
  const stamp = `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => {
      const shown = key === 'err' && typeof value === 'object' && value !== null && 'message' in value ? (value as { message: unknown }).message : value;
      return `${key}=${typeof shown === 'string' ? shown : JSON.stringify(shown)}`;
    });
  return `${[stamp, level, typeof entry.msg === 'string' ? entry.msg : '', ...fields].filter((s) => s !== '').join(' ')}\n`;
}

/**
 * The CLI's logger: pino, one JSON line per entry (`{ level, time, pid, hostname, msg, ...fields }`),
 * or readable lines with `pretty` (the CLI turns that on when stderr is a TTY). Errors under `err`
 * use pino's standard serializer (type, message, stack, code).
 *
 * @example
 * ```ts
 * const logger = createCliLogger('debug', { write: (line) => process.stderr.write(line), pretty: process.stderr.isTTY });
 * logger.info({ port: 8787 }, 'started');
 * ```
 */
export function createCliLogger(level: LogLevel, options: CliLoggerOptions): CliLogger {
  const { write, pretty = false } = options;
  const logger = pino(
    { level, serializers: { err: stdSerializers.err } },
    { write: (line: string) => write(pretty ? formatLine(line) : line) },
  );
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    silence() {
      logger.level = 'silent';
    },
  };
}
