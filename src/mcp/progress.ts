import type { RequestContext } from '../runtime/methods.js';

/**
 * A progress token from the client (`params._meta.progressToken`).
 *
 * @example
 * ```ts
 * const token: ProgressToken = 'upload-1';
 * ```
 */
export type ProgressToken = string | number;

/**
 * The `progressToken` a request carries in `params._meta`, if any (0 is a token).
 *
 * @example
 * ```ts
 * progressTokenOf(ctx.message); // 7, 'abc' or undefined
 * ```
 */
export function progressTokenOf(message: { params?: unknown }): ProgressToken | undefined {
  const params = message.params;
  if (typeof params !== 'object' || params === null) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const token = (meta as { progressToken?: unknown }).progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/**
 * Send `notifications/progress` for a request, through the session's send guard. Returns `false`
 * (and sends nothing) when the request asked for no progress, when it was cancelled, or when the
 * guard blocked the send because the session is closed.
 *
 * @example
 * ```ts
 * const handler = async (_params: unknown, ctx: RequestContext) => {
 *   sendProgress(ctx, 1, 2, 'half way');
 *   return {};
 * };
 * ```
 */
export function sendProgress(ctx: RequestContext, progress: number, total?: number, message?: string): boolean {
  const progressToken = progressTokenOf(ctx.message);
  if (progressToken === undefined || ctx.cancelled) return false;
  const params: { progressToken: ProgressToken; progress: number; total?: number; message?: string } = { progressToken, progress };
  if (total !== undefined) params.total = total;
  if (message !== undefined) params.message = message;
  return ctx.session.notify('notifications/progress', params);
}
