import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { summarizeIssues } from '../jsonrpc/codec.js';
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { MethodTable, NotificationHandler } from '../runtime/methods.js';
import { createSupervisor, type Supervisor, type SupervisorOptions } from '../supervisor.js';
import { createMcpDialect, markClientInitialized, markInitialized, mcpDialect, mcpSessionInfo } from './dialect.js';
import { CLIENT_CAPABILITIES } from './input.js';
import { setLogLevel } from './logging.js';
import { MODERN_MCP_PROTOCOL_VERSIONS } from './modern.js';
import { modernMethod, type CachePolicy } from './modern-result.js';
import { RequestStateCodec } from './request-state.js';
import { SubscriptionHub } from './subscriptions.js';
import { TASKS_EXTENSION } from './tasks/extension.js';
import { createTaskManager, type TaskManager } from './tasks/manager.js';
import { resumeToolTasks } from './tasks/tool-task.js';
import { taskMethods } from './tasks/wire.js';
import { ToolRegistry, toToolResult, type ToolDefinition } from './tools.js';
import { negotiateProtocolVersion } from './versions.js';

/**
 * What an MCP server says about itself, and what it serves.
 *
 * @example
 * ```ts
 * const info: McpServerInfo = { name: 'demo', version: '1.0.0', tools: [echo] };
 * ```
 */
export interface McpServerInfo {
  /** `serverInfo.name` in the `initialize` answer. */
  name: string;
  /** `serverInfo.version` in the `initialize` answer. */
  version: string;
  /** Optional `instructions` for the client's model. */
  instructions?: string;
  tools?: readonly ToolDefinition[];
  /** More request methods (plain JSON-RPC or MCP methods this module does not implement). */
  methods?: MethodTable;
  /** More notification handlers. */
  notifications?: Record<string, NotificationHandler>;
  /** Methods admitted before `initialize` besides `initialize` and `ping` (e.g. a plain JSON-RPC `echo`). */
  openMethods?: readonly string[];
  /**
   * Capabilities to declare besides `tools` (e.g. `resources`, `prompts`, `logging`, `completions`,
   * `extensions`), in `initialize` and `server/discover`. Serve their methods through `methods`.
   * `resources.subscribe: true` adds `resources/subscribe`/`unsubscribe` (legacy) and resource
   * subscriptions on `subscriptions/listen` (modern).
   */
  capabilities?: Record<string, unknown>;
  /** Key of the HMAC that signs MRTR `requestState` (≥ 16 bytes). Default: random per process. */
  requestStateKey?: Uint8Array | string;
  /** `ttlMs` and `cacheScope` on modern list/read/discover results. Default `{ ttlMs: 0, cacheScope: 'private' }`. */
  cache?: CachePolicy;
  /**
   * The task manager that runs tools declared with `task` and serves `tasks/get`, `tasks/update`,
   * `tasks/cancel` (and advertises the `io.modelcontextprotocol/tasks` extension). Default: one on
   * the in-memory store when a tool is declared with `task`; pass one on a Redis store for tasks
   * that outlive this instance (docs/tasks.md).
   */
  tasks?: TaskManager;
}

/**
 * The MCP parts of a server that live beyond one request: the change notifications hub (announce
 * `tools`/`prompts`/`resources` list changes and resource updates to both eras).
 *
 * @example
 * ```ts
 * const { methods, notifications, hub } = mcpMethods(info);
 * hub.changed('tools');
 * ```
 */
export interface McpMethods {
  methods: MethodTable;
  notifications: Record<string, NotificationHandler>;
  hub: SubscriptionHub;
  /** The task manager, when the server serves tasks. */
  tasks: TaskManager | undefined;
  /** The `Mcp-Param-*` check of `tools/call` for Streamable HTTP (see {@link McpServerControls.checkHeaders}). */
  checkHeaders(request: IncomingMessage, message: unknown): string | undefined;
}

const InitializeParams = z.object({
  protocolVersion: z.string(),
  capabilities: z.record(z.string(), z.unknown()).optional(),
  clientInfo: z.unknown().optional(),
});

/**
 * The MCP method table: `initialize`, `ping`, `tools/list`, `tools/call` (and your extra methods),
 * with the `notifications/initialized` handler. Pass it with {@link mcpDialect} to `createSupervisor`
 * when you need the supervisor options yourself; {@link createMcpServer} does both.
 *
 * @example
 * ```ts
 * import { createSupervisor } from 'session-supervisor';
 * import { mcpDialect, mcpMethods } from 'session-supervisor/mcp';
 *
 * const supervisor = createSupervisor({ dialect: mcpDialect, ...mcpMethods({ name: 'demo', version: '1.0.0', tools: [] }) });
 * ```
 */
export function mcpMethods(info: McpServerInfo): McpMethods {
  const tasks = info.tasks ?? ((info.tools ?? []).some((tool) => tool.task !== undefined) ? createTaskManager() : undefined);
  const registry = new ToolRegistry(info.tools ?? [], tasks === undefined ? {} : { tasks });
  if (tasks !== undefined) resumeToolTasks(tasks, (name) => registry.get(name), toToolResult);
  const serverInfo = { name: info.name, version: info.version };
  const declared = info.capabilities ?? {};
  const extra =
    tasks === undefined ? declared : { ...declared, extensions: { ...(declared['extensions'] as Record<string, unknown> | undefined), [TASKS_EXTENSION]: {} } };
  const resources = extra['resources'] as { subscribe?: boolean; listChanged?: boolean } | undefined;
  const prompts = extra['prompts'] as { listChanged?: boolean } | undefined;
  const tools = (extra['tools'] as Record<string, unknown> | undefined) ?? { listChanged: false };
  const capabilities: Record<string, unknown> = { ...extra, tools };
  const hub = new SubscriptionHub({
    tools: tools['listChanged'] === true,
    prompts: prompts?.listChanged === true,
    resources: resources?.listChanged === true,
    resourceSubscriptions: resources?.subscribe === true,
  });
  const codec = new RequestStateCodec(info.requestStateKey === undefined ? {} : { key: info.requestStateKey });
  const shape = { serverInfo, codec, cache: info.cache ?? { ttlMs: 0, cacheScope: 'private' as const } };
  const table: MethodTable = {
    ...info.methods,
    initialize: (params: unknown, ctx) => {
      const parsed = InitializeParams.safeParse(params);
      if (!parsed.success) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params', summarizeIssues(parsed.error));
      const protocolVersion = negotiateProtocolVersion(parsed.data.protocolVersion);
      markInitialized(ctx.session, protocolVersion, parsed.data.clientInfo);
      ctx.session.locals.set(CLIENT_CAPABILITIES, parsed.data.capabilities ?? {});
      const result: Record<string, unknown> = { protocolVersion, capabilities, serverInfo };
      if (info.instructions !== undefined) result.instructions = info.instructions;
      return result;
    },
    'server/discover': () => {
      const result: Record<string, unknown> = {
        supportedVersions: [...MODERN_MCP_PROTOCOL_VERSIONS],
        capabilities,
      };
      if (info.instructions !== undefined) result.instructions = info.instructions;
      return result;
    },
    'subscriptions/listen': (params: unknown, ctx) => hub.listen(params, ctx),
    ping: () => ({}),
    'tools/list': () => registry.list(),
    'tools/call': (params: unknown, ctx) => registry.call(params, ctx),
    ...(tasks === undefined ? {} : taskMethods(tasks)),
  };
  if (extra['logging'] !== undefined) table['logging/setLevel'] = setLogLevel;
  if (resources?.subscribe === true) {
    table['resources/subscribe'] = (params: unknown, ctx) => {
      hub.subscribe(ctx.session, readUri(params));
      return {};
    };
    table['resources/unsubscribe'] = (params: unknown, ctx) => {
      hub.unsubscribe(ctx.session, readUri(params));
      return {};
    };
  }
  const methods: MethodTable = {};
  for (const [name, definition] of Object.entries(table)) methods[name] = modernMethod(name, definition, shape);
  const notifications: Record<string, NotificationHandler> = {
    ...info.notifications,
    'notifications/initialized': (_params, session) => markClientInitialized(session),
  };
  return { methods, notifications, hub, tasks, checkHeaders: (request, message) => registry.checkHeaders(request.headers, message) };
}

function readUri(params: unknown): string {
  const uri = typeof params === 'object' && params !== null ? (params as { uri?: unknown }).uri : undefined;
  if (typeof uri !== 'string') throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params: uri must be a string');
  return uri;
}

/**
 * Options of {@link createMcpServer}: the server's description and tools, and the supervisor's
 * limits, logger, inspector and clock.
 *
 * @example
 * ```ts
 * const options: McpServerOptions = { name: 'demo', version: '1.0.0', tools: [echo], limits: { drainTimeoutMs: 5000 } };
 * ```
 */
export type McpServerOptions = McpServerInfo & Omit<SupervisorOptions, 'methods' | 'notifications' | 'dialect'>;

/**
 * Create an MCP server: a supervisor with the MCP dialect, `initialize`, `ping`, `tools/list` and
 * `tools/call`. Attach transports to it (`listenWebSocket`, `serveStdio`) like any supervisor.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createMcpServer, defineTool } from 'session-supervisor/mcp';
 * import { serveStdio } from 'session-supervisor/stdio';
 *
 * const server = createMcpServer({
 *   name: 'demo',
 *   version: '1.0.0',
 *   tools: [defineTool({ name: 'echo', input: z.object({ text: z.string() }), run: ({ text }) => text })],
 * });
 * serveStdio(server);
 * ```
 */
export function createMcpServer(options: McpServerOptions): McpServer {
  const { name, version, instructions, tools, methods, notifications, openMethods, capabilities, requestStateKey, cache, tasks, ...supervisorOptions } =
    options;
  const info: McpServerInfo = { name, version };
  if (instructions !== undefined) info.instructions = instructions;
  if (tools !== undefined) info.tools = tools;
  if (methods !== undefined) info.methods = methods;
  if (notifications !== undefined) info.notifications = notifications;
  if (capabilities !== undefined) info.capabilities = capabilities;
  if (requestStateKey !== undefined) info.requestStateKey = requestStateKey;
  if (cache !== undefined) info.cache = cache;
  if (tasks !== undefined) info.tasks = tasks;
  const dialect = openMethods === undefined ? mcpDialect : createMcpDialect({ openMethods });
  const { hub, tasks: taskManager, checkHeaders, ...table } = mcpMethods(info);
  const supervisor = createSupervisor({ ...supervisorOptions, dialect, ...table });
  if (taskManager !== undefined) {
    // Take the lease and listen for signals now, so this instance sweeps orphaned tasks even before
    // it runs one; a store that is down now is tried again on the next task request.
    taskManager.start().catch(() => undefined);
    // A task manager the server made itself ends with it: its running tasks fail with `shutdown`.
    if (tasks === undefined) void supervisor.stopped.then(() => taskManager.shutdown()).catch(() => undefined);
  }
  supervisor.on('session.draining', ({ sessionId }) => hub.endSession(sessionId));
  const legacySessions = () => [...supervisor.sessions()].filter((session) => mcpSessionInfo(session).protocolVersion !== undefined);
  const mcp: McpServerControls = {
    hub,
    tasks: taskManager,
    changed: (kind) => hub.changed(kind, legacySessions()),
    updated: (uri) => hub.updated(uri),
    checkHeaders,
  };
  return Object.assign(supervisor, { mcp });
}

/**
 * What {@link createMcpServer} adds to its supervisor: announce changes to clients of both eras.
 *
 * @example
 * ```ts
 * server.mcp.changed('tools');
 * server.mcp.updated('test://watched-resource');
 * ```
 */
export interface McpServerControls {
  readonly hub: SubscriptionHub;
  /** The task manager (see {@link McpServerInfo.tasks}), when the server serves tasks. */
  readonly tasks: TaskManager | undefined;
  /** A list changed: `notifications/<kind>/list_changed` to listeners that asked, and to legacy sessions. */
  changed(kind: 'tools' | 'prompts' | 'resources'): void;
  /** A resource changed: `notifications/resources/updated` to its subscribers. */
  updated(uri: string): void;
  /**
   * Check a modern Streamable HTTP POST's `Mcp-Param-*` headers against the `tools/call` arguments
   * (the tools' `x-mcp-header` annotations): what is wrong, or `undefined`. `listenHttp` and
   * `createHttpHandler` use it unless given their own `checkHeaders`.
   */
  checkHeaders(request: IncomingMessage, message: unknown): string | undefined;
}

/**
 * A supervisor serving MCP, with {@link McpServerControls} under `mcp`.
 *
 * @example
 * ```ts
 * const server: McpServer = createMcpServer({ name: 'demo', version: '1.0.0' });
 * ```
 */
export type McpServer = Supervisor & { readonly mcp: McpServerControls };
