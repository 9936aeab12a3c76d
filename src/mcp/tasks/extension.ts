import { ErrorCode, JsonRpcError } from '../../jsonrpc/errors.js';
import { McpErrorCode } from '../modern.js';
import { TaskError } from './record.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The identifier of the MCP tasks extension (SEP-2663), as clients declare it under
 * `capabilities.extensions` and servers advertise it in `server/discover`.
 *
 * @example
 * ```ts
 * const declared = caps.extensions?.[TASKS_EXTENSION] !== undefined;
 * ```
 */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/**
 * Whether client capabilities declare the tasks extension.
 *
 * @example
 * ```ts
 * declaresTasks({ extensions: { 'io.modelcontextprotocol/tasks': {} } }); // true
 * ```
 */
export function declaresTasks(capabilities: Readonly<Record<string, unknown>>): boolean {
  const extensions = capabilities['extensions'];
  return isObject(extensions) && extensions[TASKS_EXTENSION] !== undefined;
}

/**
 * The −32021 error for a request that needs the tasks extension the client did not declare.
 *
 * @example
 * ```ts
 * throw tasksRequiredError('tasks/get');
 * ```
 */
export function tasksRequiredError(what: string): JsonRpcError {
  return new JsonRpcError(McpErrorCode.MissingRequiredClientCapability, `Missing required client capability: extensions.${TASKS_EXTENSION} (${what})`, {
    requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
  });
}

/**
 * A task store error as a JSON-RPC error (−32603, `data.code` the store's stable code).
 *
 * @example
 * ```ts
 * try { await tasks.get(id); } catch (e) { throw storeFailure(e); }
 * ```
 */
export function storeFailure(error: unknown): unknown {
  if (!(error instanceof TaskError)) return error;
  const message =
    error.code === 'ERR_TASK_STORE_UNAVAILABLE'
      ? 'Task store unavailable'
      : error.code === 'ERR_TASK_CANCELLED'
        ? 'Task manager is shut down'
        : `Task store error (${error.code})`;
  return new JsonRpcError(ErrorCode.InternalError, message, { code: error.code, detail: error.message });
}
