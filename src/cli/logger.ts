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
 * A pino-compatible logger that can be silenced (so a final line stays the last one).
 *
 * @example
 * ```ts
 * const logger: CliLogger = createJsonLogger('info', (line) => process.stderr.write(line));
 * logger.silence();
 * ```
 */
export interface CliLogger extends Logger {
  /** Drop everything from now on. */
  silence(): void;
}

const serializeError = (error: unknown): unknown =>
  error instanceof Error ? { type: error.name, message: error.message, ...((error as { code?: unknown }).code === undefined ? {} : { code: (error as { code?: unknown }).code }) } : error;

/**
 * A small pino-compatible JSON logger: one line per entry, `{ level, time, pid, msg, ...fields }`,
 * entries below `level` dropped, `err` fields reduced to type, message and code (no stacks).
 *
 * @example
 * ```ts
 * const logger = createJsonLogger('debug', (line) => process.stderr.write(line));
 * logger.info({ port: 8787 }, 'started');
 * ```
 */
export function createJsonLogger(level: LogLevel, write: (line: string) => void): CliLogger {
  let threshold: number = LOG_LEVELS[level];
  const entry =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: object, msg?: string): void => {
      const value = LOG_LEVELS[name];
      if (value < threshold) return;
      const fields: Record<string, unknown> = { ...obj };
      if ('err' in fields) fields.err = serializeError(fields.err);
      let line: string;
      try {
        line = JSON.stringify({ level: value, time: Date.now(), pid: process.pid, ...fields, ...(msg === undefined ? {} : { msg }) });
      } catch {
        line = JSON.stringify({ level: value, time: Date.now(), pid: process.pid, msg: msg ?? 'unserializable log entry' });
      }
      write(`${line}\n`);
    };
  return {
    debug: entry('debug'),
    info: entry('info'),
    warn: entry('warn'),
    error: entry('error'),
    silence() {
      threshold = Infinity;
    },
  };
}
