/**
 * A pino-compatible logger: `logger.warn({ sessionId }, 'message')`. The library never logs on its
 * own; pass one (pino works as it is) to see what it does.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * createSupervisor({ methods, logger: pino() });
 * ```
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A logger that drops everything (the default).
 *
 * @example
 * ```ts
 * createSupervisor({ methods, logger: silentLogger });
 * ```
 */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
