/**
 * The MCP protocol versions this server speaks, newest first: exactly the versions the official
 * TypeScript SDK 1.32.x sends and accepts (`SUPPORTED_PROTOCOL_VERSIONS`). The one list every other
 * part reads.
 *
 * @example
 * ```ts
 * import { MCP_PROTOCOL_VERSIONS } from 'session-supervisor/mcp';
 * MCP_PROTOCOL_VERSIONS[0]; // '2025-11-25'
 * ```
 */
export const MCP_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'] as const;

/**
 * One of {@link MCP_PROTOCOL_VERSIONS}.
 *
 * @example
 * ```ts
 * const v: McpProtocolVersion = '2025-06-18';
 * ```
 */
export type McpProtocolVersion = (typeof MCP_PROTOCOL_VERSIONS)[number];

/**
 * The newest version this server speaks; the answer to a client asking for one it does not know.
 *
 * @example
 * ```ts
 * LATEST_MCP_PROTOCOL_VERSION; // '2025-11-25'
 * ```
 */
export const LATEST_MCP_PROTOCOL_VERSION: McpProtocolVersion = MCP_PROTOCOL_VERSIONS[0];

/**
 * Pick the version to answer `initialize` with: the client's own when this server speaks it,
 * otherwise the latest this server speaks (the client then decides whether to go on).
 *
 * @example
 * ```ts
 * negotiateProtocolVersion('2025-03-26'); // '2025-03-26'
 * negotiateProtocolVersion('1999-01-01'); // '2025-11-25'
 * ```
 */
export function negotiateProtocolVersion(requested: unknown): McpProtocolVersion {
  const known = MCP_PROTOCOL_VERSIONS.find((version) => version === requested);
  return known ?? LATEST_MCP_PROTOCOL_VERSION;
}
