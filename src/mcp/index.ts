/**
 * The MCP side of session-supervisor: the MCP dialect, the `initialize` handshake, tools, progress,
 * ping, and the guard that hardens an official-SDK server's transport.
 *
 * @example
 * ```ts
 * import { createMcpServer, defineTool, guardTransport } from 'session-supervisor/mcp';
 * ```
 */
export { createMcpDialect, mcpDialect, mcpSessionInfo } from './dialect.js';
export type { McpDialectOptions, McpSessionInfo } from './dialect.js';
export { MCP_PROTOCOL_VERSIONS, LATEST_MCP_PROTOCOL_VERSION, negotiateProtocolVersion } from './versions.js';
export type { McpProtocolVersion } from './versions.js';
export { MCP_DISCONNECT_POLICY, disconnectAction } from './disconnect-policy.js';
export type { DisconnectAction, DisconnectRule } from './disconnect-policy.js';
export { defineTool, ToolRegistry, toToolResult } from './tools.js';
export type { ToolContent, ToolContext, ToolDefinition, ToolResult } from './tools.js';
export { progressTokenOf, sendProgress } from './progress.js';
export type { ProgressToken } from './progress.js';
export { createMcpServer, mcpMethods } from './server.js';
export type { McpMethods, McpServer, McpServerControls, McpServerInfo, McpServerOptions } from './server.js';
export {
  MODERN_MCP_PROTOCOL_VERSION,
  MODERN_MCP_PROTOCOL_VERSIONS,
  MetaKey,
  McpErrorCode,
  checkModernRequest,
  isModernRequest,
  metaOf,
  missingCapabilityError,
  modernMetaOf,
} from './modern.js';
export type { ModernRequestMeta } from './modern.js';
export { INPUT_REQUIRED_METHODS, InputRequiredSignal, requestInput } from './input.js';
export type { InputRequest, McpInput } from './input.js';
export { RequestStateCodec } from './request-state.js';
export type { RequestStatePayload } from './request-state.js';
export { LOG_LEVELS, sendLog, setLogLevel } from './logging.js';
export type { LogLevel } from './logging.js';
export { SubscriptionHub } from './subscriptions.js';
export type { ListKind, NotificationFilter, SubscriptionSupport } from './subscriptions.js';
export { modernMethod } from './modern-result.js';
export type { CachePolicy, ResultShape } from './modern-result.js';
export { pingClient } from './ping.js';
export {
  connectRedisTaskStore,
  createMemoryTaskStore,
  createTaskManager,
  createTaskResult,
  declaresTasks,
  detailedTask,
  TaskError,
  taskMethods,
  TASKS_EXTENSION,
} from './tasks/index.js';
export type {
  MemoryTaskStoreOptions,
  RedisTaskStoreOptions,
  TaskErrorObject,
  TaskManager,
  TaskManagerOptions,
  TaskOrigin,
  TaskRecord,
  TaskRunContext,
  TaskStore,
  TaskToolContext,
  TaskWork,
} from './tasks/index.js';
export { guardTransport } from './guard.js';
export type { GuardedTransport, GuardOptions, GuardStats, HttpRequestLike, HttpResponseLike, SdkTransport } from './guard.js';
export type { StdioStreams } from './guard-stdio.js';
