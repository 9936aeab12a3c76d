/**
 * Why a handler was cancelled. The reason decides whether a response goes out and what is logged.
 *
 * - `client`: the peer sent a cancel notification for the request.
 * - `transport-closed`: the output side went away; nothing can be written any more.
 * - `drain-timeout`: the session drained for longer than `drainTimeoutMs`.
 * - `request-timeout`: the request ran for longer than `requestTimeoutMs`.
 * - `shutdown`: the server closed the session on purpose.
 * - `session-failed`: the session's own actor failed; the session is closed alone.
 *
 * @example
 * ```ts
 * import { CANCEL_REASONS } from 'session-supervisor/machines';
 * CANCEL_REASONS.includes('client'); // true
 * ```
 */
export type CancelReason =
  | 'client'
  | 'transport-closed'
  | 'drain-timeout'
  | 'request-timeout'
  | 'shutdown'
  | 'session-failed';

/**
 * Every cancellation reason, in a stable order (used for counters and metrics).
 *
 * @example
 * ```ts
 * for (const reason of CANCEL_REASONS) console.log(reason);
 * ```
 */
export const CANCEL_REASONS: readonly CancelReason[] = [
  'client',
  'transport-closed',
  'drain-timeout',
  'request-timeout',
  'shutdown',
  'session-failed',
];

/**
 * Why a session left `connected` for `draining`.
 *
 * @example
 * ```ts
 * const why: DrainReason = 'input-ended';
 * ```
 */
export type DrainReason = 'input-ended' | 'shutdown';
