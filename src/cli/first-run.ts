/**
 * Where a running `serve` can be reached, for {@link firstRunText}.
 *
 * @example
 * ```ts
 * const where: ServedAt = { wsUrl: 'ws://127.0.0.1:8787', httpUrl: 'http://127.0.0.1:8787/mcp', tools: ['echo'], cli: ['/usr/bin/node', '/app/dist/src/cli.js'] };
 * ```
 */
export interface ServedAt {
  /** The WebSocket URL (`listening …`). */
  wsUrl: string;
  /** The Streamable HTTP endpoint on the same port. */
  httpUrl: string;
  /** The tools served, in order. */
  tools: readonly string[];
  /** How to start this CLI again: the node binary and the absolute path of the CLI script. */
  cli: readonly [node: string, script: string];
}

/** The marker lines around the SDK snippet (a test runs what is between them). */
export const SNIPPET_BEGIN = '  // ---- SDK client (save as client.mjs; npm i @modelcontextprotocol/sdk ws) ----';
export const SNIPPET_END = '  // ----';

/**
 * The text `serve` prints after its `listening` line (unless `--quiet`): the tools served and
 * copy-paste ways to connect — an official SDK client, the MCP inspector, and MCP host config
 * entries for stdio and for the HTTP URL.
 *
 * @example
 * ```ts
 * process.stderr.write(firstRunText({ wsUrl, httpUrl, tools: ['echo'], cli: [process.execPath, scriptPath] }));
 * ```
 */
export function firstRunText(at: ServedAt): string {
  const stdioEntry = { command: at.cli[0], args: [at.cli[1], 'serve', '--stdio'] };
  const example = at.tools.includes('echo') ? `{ name: 'echo', arguments: { text: 'hello' } }` : `{ name: '${at.tools[0] ?? 'TOOL'}', arguments: {} }`;
  return [
    `tools: ${at.tools.length === 0 ? '(none)' : at.tools.join(', ')}`,
    '',
    'Connect with the official MCP SDK over WebSocket:',
    SNIPPET_BEGIN,
    `  import { Client } from '@modelcontextprotocol/sdk/client/index.js';`,
    `  import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';`,
    `  import { WebSocket } from 'ws';`,
    `  globalThis.WebSocket ??= WebSocket; // Node 20 has no global WebSocket`,
    `  const client = new Client({ name: 'first-client', version: '1.0.0' });`,
    `  await client.connect(new WebSocketClientTransport(new URL('${at.wsUrl}')));`,
    `  console.log(await client.callTool(${example}));`,
    `  await client.close();`,
    SNIPPET_END,
    '',
    'Or the MCP inspector (Streamable HTTP on the same port):',
    `  npx @modelcontextprotocol/inspector --cli ${at.httpUrl} --transport http --method tools/list`,
    '',
    'MCP host config (mcpServers entry), launched over stdio or reached over HTTP:',
    `  "session-supervisor": ${JSON.stringify(stdioEntry)}`,
    `  "session-supervisor-http": ${JSON.stringify({ type: 'http', url: at.httpUrl })}`,
    '',
    '(--quiet hides this text; Ctrl-C drains and stops)',
    '',
  ].join('\n');
}
