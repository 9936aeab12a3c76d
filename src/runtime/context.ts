import type { CancelReason } from '../../machines/reasons.js';
import type { DecodeOptions } from '../jsonrpc/codec.js';
import type { Clock } from './clock.js';
import type { GraceQueue } from './grace-queue.js';
import type { Dialect } from './dialect.js';
import type { InspectionSink } from './handler-actor.js';
import type { SupervisorEvents } from './events.js';
import type { Logger } from './logger.js';
import type { MethodDefinition, MethodTable, NotificationHandler } from './methods.js';
import { SupervisorError } from '../jsonrpc/errors.js';
import type { Session, SessionCloseInfo } from './session.js';

/**
 * Limits of a supervisor. Every one has a default.
 *
 * @example
 * ```ts
 * createSupervisor({ methods, limits: { drainTimeoutMs: 5_000, maxInFlight: 64 } });
 * ```
 */
export interface Limits {
  /** Requests running at once per session; more → −32002. Default 1024. */
  maxInFlight: number;
  /** Per-request deadline; `0` turns it off. Default 0 (off). */
  requestTimeoutMs: number;
  /** How long a draining session waits for its handlers. Default 10 000. */
  drainTimeoutMs: number;
  /** How long a cancelled handler may take to settle before it is abandoned. Default 2 000. */
  cancelGraceMs: number;
  /** Largest inbound message in bytes; larger → −32004. Default 4 MiB. */
  maxMessageBytes: number;
  /** More session failures than this within `failureWindowMs` mark the supervisor unhealthy. Default 5. */
  maxSessionFailures: number;
  /** The window for `maxSessionFailures`. Default 60 000. */
  failureWindowMs: number;
}

/**
 * The defaults of {@link Limits}.
 *
 * @example
 * ```ts
 * DEFAULT_LIMITS.drainTimeoutMs; // 10000
 * ```
 */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInFlight: 1024,
  requestTimeoutMs: 0,
  drainTimeoutMs: 10_000,
  cancelGraceMs: 2_000,
  maxMessageBytes: 4 * 1024 * 1024,
  maxSessionFailures: 5,
  failureWindowMs: 60_000,
});

/** Lifetime counters shared by every session of one supervisor. */
export interface Counters {
  sessions: number;
  requests: number;
  completed: number;
  failed: number;
  refused: number;
  cancelled: Record<CancelReason, number>;
  abandoned: number;
  lateAnswers: number;
  blockedSends: number;
  sessionFailures: number;
}

/** What a session needs from its supervisor. */
export interface SessionRuntime {
  /** Where handler actors send their inspection events. */
  readonly inspection: InspectionSink;
  readonly methods: ReadonlyMap<string, MethodDefinition>;
  readonly notifications: ReadonlyMap<string, NotificationHandler>;
  readonly dialect: Dialect;
  readonly limits: Readonly<Limits>;
  readonly decodeOptions: DecodeOptions;
  readonly clock: Clock;
  /** The cancel-grace deadlines of every session's cancelled handlers, with one timer. */
  readonly graceQueue: GraceQueue;
  readonly logger: Logger;
  readonly counters: Counters;
  emit<K extends keyof SupervisorEvents>(type: K, event: SupervisorEvents[K]): void;
  /** Whether anyone listens to an event type. */
  listens(type: keyof SupervisorEvents): boolean;
  sessionFinished(session: Session, info: SessionCloseInfo): void;
  sessionFailed(session: Session, error: unknown): void;
}

/** A method table with every entry as a {@link MethodDefinition}. */
export function normalize(table: MethodTable | undefined): Map<string, MethodDefinition> {
  const map = new Map<string, MethodDefinition>();
  for (const [name, entry] of Object.entries(table ?? {})) {
    map.set(name, typeof entry === 'function' ? { handler: entry } : entry);
  }
  return map;
}

/** The limits with their defaults, checked: each a number >= 0, `maxInFlight` >= 1. */
export function resolveLimits(partial: Partial<Limits> | undefined): Readonly<Limits> {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(partial ?? {}) as [keyof Limits, number | undefined][]) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new SupervisorError('ERR_INVALID_OPTION', `limits.${key} must be a number >= 0 (got ${String(value)})`);
    }
    limits[key] = value;
  }
  if (limits.maxInFlight < 1) throw new SupervisorError('ERR_INVALID_OPTION', 'limits.maxInFlight must be >= 1');
  return Object.freeze(limits);
}
