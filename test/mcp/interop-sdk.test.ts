import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { killServes, spawnServe } from './cli-process.js';

// The official SDK client (1.32.x) is the peer; the server is the built CLI.
// Node 20 has no global WebSocket: the SDK's WebSocketClientTransport uses ws's.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const clients: Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  killServes();
});

interface WireMessage {
  id?: unknown;
  method?: string;
  params?: { progressToken?: unknown; progress?: unknown };
}

async function connect(transport: Transport): Promise<{ client: Client; errors: Error[]; wire: WireMessage[] }> {
  const client = new Client({ name: 'interop-test', version: '1.0.0' });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  clients.push(client);
  await client.connect(transport);
  // Every message from the server after the handshake, in the order it came off the wire.
  const wire: WireMessage[] = [];
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    wire.push(message as WireMessage);
    deliver?.(message, extra);
  };
  return { client, errors, wire };
}

const UNKNOWN_PROGRESS = 'Received a progress notification for an unknown token: ';

/**
 * The client's errors, less one the SDK makes by itself: it handles a notification a microtask
 * after a response that came in the same read, so a progress notification the server wrote before
 * the answer can reach it after the answer dropped the token. Such an error is left out only when
 * the wire shows that notification before the answer; nothing may follow an answer for its token.
 */
function clientErrors(errors: Error[], wire: WireMessage[]): Error[] {
  for (const [index, message] of wire.entries()) {
    if (message.id === undefined || message.method !== undefined) continue;
    const later = wire.slice(index + 1).filter((m) => m.method === 'notifications/progress' && m.params?.progressToken === message.id);
    expect(later).toEqual([]);
  }
  return errors.filter((error) => {
    if (!error.message.startsWith(UNKNOWN_PROGRESS)) return true;
    const note = JSON.parse(error.message.slice(UNKNOWN_PROGRESS.length)) as WireMessage;
    const token = note.params?.progressToken;
    const noteAt = wire.findIndex((m) => m.method === note.method && m.params?.progressToken === token && m.params?.progress === note.params?.progress);
    const answerAt = wire.findIndex((m) => m.method === undefined && m.id === token);
    return !(noteAt >= 0 && answerAt > noteAt);
  });
}

/** The conversation both transports run: everything the issue lists except the EOF drain. */
async function converse(client: Client): Promise<void> {
  expect(client.getServerVersion()).toEqual({ name: 'session-supervisor-demo', version: '0.1.0' });
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toEqual(['echo', 'sleep', 'stubborn_sleep', 'fail']);
  expect(await client.callTool({ name: 'echo', arguments: { text: 'hello' } })).toEqual({ content: [{ type: 'text', text: 'hello' }] });

  // Cancel through an AbortSignal: the SDK sends notifications/cancelled; the server sends nothing for that id.
  const controller = new AbortController();
  const pending = client.callTool({ name: 'sleep', arguments: { ms: 60_000 } }, undefined, { signal: controller.signal });
  setTimeout(() => controller.abort('test cancels'), 100);
  await expect(pending).rejects.toThrow();

  // The connection keeps serving.
  expect(await client.callTool({ name: 'echo', arguments: { text: 'after cancel' } })).toEqual({ content: [{ type: 'text', text: 'after cancel' }] });

  // Progress, with the token the SDK puts in _meta.
  const progress: Array<{ progress: number; total?: number | undefined }> = [];
  const slept = await client.callTool({ name: 'sleep', arguments: { ms: 350 } }, undefined, { onprogress: (p) => progress.push(p) });
  expect(slept).toEqual({ content: [{ type: 'text', text: 'slept 350 ms' }] });
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(progress[0]).toEqual({ progress: 0, total: 350 });
  for (let i = 1; i < progress.length; i += 1) {
    expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(progress[i]).toMatchObject({ total: 350 });
  }

  // A tool error is a result with isError; bad arguments are a protocol error.
  expect(await client.callTool({ name: 'fail', arguments: { message: 'nope' } })).toEqual({ content: [{ type: 'text', text: 'nope' }], isError: true });
  await expect(client.callTool({ name: 'echo', arguments: { text: 3 } })).rejects.toThrow(/-32602/);
  await client.ping();
}

/** What the server's final counters must say after {@link converse}. */
const expectedCounters = {
  sessions: 1,
  // initialize, tools/list, echo, sleep (cancelled), echo, sleep, fail, echo with bad arguments, ping
  requests: 9,
  completed: 7,
  // the bad arguments: tools/call answered -32602 (a tool error with isError counts as completed)
  failed: 1,
  cancelled: { client: 1, 'transport-closed': 0, 'drain-timeout': 0, 'request-timeout': 0, shutdown: 0, 'session-failed': 0 },
  abandoned: 0,
  blockedSends: 0,
};

describe('interop with the official MCP SDK client', () => {
  it('over stdio: initialize, list, call, cancel by AbortSignal, progress, ping; stats count one client cancel', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['dist/src/cli.js', 'serve', '--stdio', '--log-level', 'warn'],
      stderr: 'pipe',
    });
    const stderr: string[] = [];
    (transport.stderr as Readable).setEncoding('utf8');
    (transport.stderr as Readable).on('data', (chunk: string) => stderr.push(chunk));
    const { client, errors, wire } = await connect(transport);
    await converse(client);
    // Closing ends the server's stdin: it drains, prints its counters and exits 0.
    await client.close();
    const lines = stderr.join('').trim().split('\n');
    const { phases: stdioPhases, ...stdioCounters } = JSON.parse(lines.at(-1)!);
    expect(stdioCounters).toEqual(expectedCounters);
    expect(stdioPhases.at(-1)).toMatchObject({ phase: 'stopped' });
    // Nothing arrived for the cancelled id (the SDK reports a response to an unknown id as an error).
    expect(clientErrors(errors, wire)).toEqual([]);
  });

  it('over WebSocket: the same conversation against serve --port 0, then SIGTERM: exit 0 and the counters', async () => {
    const server = spawnServe(['--port', '0', '--log-level', 'warn']);
    const listening = await server.line(/^listening ws:\/\//);
    const url = listening.slice('listening '.length);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const { client, errors, wire } = await connect(new WebSocketClientTransport(new URL(url)));
    await converse(client);
    await client.close();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderrLines.filter((l) => l.startsWith('listening '))).toEqual([listening, `listening ${url.replace('ws://', 'http://')}/mcp`]);
    const { phases, http, ...counters } = server.lastJson();
    expect(counters).toEqual(expectedCounters);
    // The conversation went over WebSocket: the HTTP endpoint on the same port saw nothing.
    expect(http).toMatchObject({ exchanges: { total: 0 }, sessions: { created: 0 }, refused: {} });
    expect(phases.at(-1)).toMatchObject({ phase: 'stopped' });
    expect(clientErrors(errors, wire)).toEqual([]);
  });
});

describe('stdin EOF on the stdio server', () => {
  it('still answers the request in flight, then exits 0 with the counters as its last stderr line', async () => {
    const server = spawnServe(['--stdio', '--log-level', 'warn']);
    const out: any[] = [];
    let buffer = '';
    server.child.stdout.setEncoding('utf8');
    server.child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        out.push(JSON.parse(buffer.slice(0, i)));
        buffer = buffer.slice(i + 1);
      }
    });
    const send = (m: unknown): void => {
      server.child.stdin.write(`${JSON.stringify(m)}\n`);
    };
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'eof', version: '0' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 300 } } });
    server.child.stdin.end();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(out.map((m) => m.id)).toEqual([1, 2]);
    expect(out[1]).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'slept 300 ms' }] } });
    expect(server.lastJson()).toMatchObject({ sessions: 1, requests: 2, completed: 2, blockedSends: 0 });
  });
});

describe('ping from the server to the official SDK client', () => {
  it('gets the SDK client to answer a server ping over a real WebSocket', async () => {
    const { createMcpServer, pingClient } = await import('../../src/mcp/index.js');
    const { listenWebSocket } = await import('../../src/transports/ws.js');
    const server = createMcpServer({ name: 'pinger', version: '1.0.0', tools: [] });
    const listener = await listenWebSocket(server, { host: '127.0.0.1', port: 0 });
    try {
      const { client } = await connect(new WebSocketClientTransport(new URL(listener.url)));
      expect(client.getServerVersion()).toEqual({ name: 'pinger', version: '1.0.0' });
      const [session] = server.sessions();
      await expect(pingClient(session!, { timeoutMs: 10_000 })).resolves.toBeUndefined();
      await client.close();
    } finally {
      await server.drain();
      await listener.close();
    }
  });
});
