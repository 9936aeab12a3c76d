import { z } from 'zod';
import { summarizeIssues } from '../jsonrpc/codec.js';
import { ErrorCode, JsonRpcError } from '../jsonrpc/errors.js';
import type { MethodTable, NotificationHandler } from '../runtime/methods.js';
import { createSupervisor, type Supervisor, type SupervisorOptions } from '../supervisor.js';
import { createMcpDialect, markClientInitialized, markInitialized, mcpDialect } from './dialect.js';
import { ToolRegistry, type ToolDefinition } from './tools.js';
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
export function mcpMethods(info: McpServerInfo): { methods: MethodTable; notifications: Record<string, NotificationHandler> } {
  const registry = new ToolRegistry(info.tools ?? []);
  const serverInfo = { name: info.name, version: info.version };
  const methods: MethodTable = {
    ...info.methods,
    initialize: (params: unknown, ctx) => {
      const parsed = InitializeParams.safeParse(params);
      if (!parsed.success) throw new JsonRpcError(ErrorCode.InvalidParams, 'Invalid params', summarizeIssues(parsed.error));
      const protocolVersion = negotiateProtocolVersion(parsed.data.protocolVersion);
      markInitialized(ctx.session, protocolVersion, parsed.data.clientInfo);
      const result: Record<string, unknown> = {
        protocolVersion,
        capabilities: { tools: { listChanged: false } },
        serverInfo,
      };
      if (info.instructions !== undefined) result.instructions = info.instructions;
      return result;
    },
    ping: () => ({}),
    'tools/list': () => registry.list(),
    'tools/call': (params: unknown, ctx) => registry.call(params, ctx),
  };
  const notifications: Record<string, NotificationHandler> = {
    ...info.notifications,
    'notifications/initialized': (_params, session) => markClientInitialized(session),
  };
  return { methods, notifications };
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
export function createMcpServer(options: McpServerOptions): Supervisor {
  const { name, version, instructions, tools, methods, notifications, openMethods, ...supervisorOptions } = options;
  const info: McpServerInfo = { name, version };
  if (instructions !== undefined) info.instructions = instructions;
  if (tools !== undefined) info.tools = tools;
  if (methods !== undefined) info.methods = methods;
  if (notifications !== undefined) info.notifications = notifications;
  const dialect = openMethods === undefined ? mcpDialect : createMcpDialect({ openMethods });
  return createSupervisor({ ...supervisorOptions, dialect, ...mcpMethods(info) });
}
