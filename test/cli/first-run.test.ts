import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SNIPPET_BEGIN, SNIPPET_END } from '../../src/cli/first-run.js';
import { killServes, spawnServe } from '../mcp/cli-process.js';

const run = promisify(execFile);
const scratch: string[] = [];

afterEach(() => {
  killServes();
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every stderr line from `from` up to the first that matches `until`, once it is there. */
async function linesUntil(server: ReturnType<typeof spawnServe>, from: RegExp, until: RegExp): Promise<string[]> {
  await server.line(until);
  const lines = server.stderrLines;
  const start = lines.findIndex((l) => from.test(l));
  const end = lines.findIndex((l, i) => i >= start && until.test(l));
  return lines.slice(start, end + 1);
}

describe('serve: the first run shows the product', () => {
  it('prints the tools and ways to connect after the listening line; the SDK snippet and the stdio host entry work as printed', async () => {
    const server = spawnServe(['--port', '0']);
    const url = (await server.line(/^listening ws:/)).slice('listening '.length);
    const port = new URL(url).port;
    const text = await linesUntil(server, /^listening /, /--quiet hides this text/);
    expect(text.slice(0, 3)).toEqual([`listening ${url}`, `listening http://127.0.0.1:${port}/mcp`, 'tools: echo, sleep, stubborn_sleep, fail']);
    expect(text.filter((l) => l.startsWith('listening'))).toEqual([`listening ${url}`, `listening http://127.0.0.1:${port}/mcp`]);
    expect(text).toContain(`  npx @modelcontextprotocol/inspector --cli http://127.0.0.1:${port}/mcp --transport http --method tools/list`);
    expect(text).toContain(`  "session-supervisor-http": {"type":"http","url":"http://127.0.0.1:${port}/mcp"}`);

    // The SDK snippet, saved as a module beside this repository's node_modules, runs against the server.
    const snippet = text.slice(text.indexOf(SNIPPET_BEGIN) + 1, text.indexOf(SNIPPET_END)).join('\n');
    expect(snippet).toContain(url);
    const dir = mkdtempSync(join(process.cwd(), 'test', 'cli', '.snippet-'));
    scratch.push(dir);
    writeFileSync(join(dir, 'client.mjs'), `${snippet}\n`);
    const { stdout } = await run(process.execPath, [join(dir, 'client.mjs')], { timeout: 20_000 });
    expect(stdout).toContain("text: 'hello'");

    // The stdio host entry launches a server an MCP host can talk to.
    const stdioLine = text.find((l) => l.startsWith('  "session-supervisor": '))!;
    const entry = JSON.parse(stdioLine.slice('  "session-supervisor": '.length)) as { command: string; args: string[] };
    expect(entry.args.slice(-2)).toEqual(['serve', '--stdio']);
    const client = new Client({ name: 'host', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, stderr: 'ignore' }));
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'sleep', 'stubborn_sleep', 'fail']);
    } finally {
      await client.close();
    }

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('prints nothing after the listening lines but logs with --quiet', async () => {
    const server = spawnServe(['--port', '0', '--quiet']);
    await server.line(/^listening http:/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderrLines.some((l) => l.startsWith('tools:') || l.includes('inspector'))).toBe(false);
    expect(server.stderrLines.filter((l) => !l.startsWith('{'))).toEqual(server.stderrLines.slice(0, 2));
  });

  it('logs sessions and cancels at info; on SIGTERM says what it drains, counts down, and ends with the counters', async () => {
    const server = spawnServe(['--port', '0', '--quiet', '--drain-timeout', '1500']);
    const url = (await server.line(/^listening ws:/)).slice('listening '.length);
    const ws = new WebSocket(url, 'mcp');
    const messages: Array<{ id?: number }> = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as { id?: number }));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } }));
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 60_000 } } }));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 60_000 } } }));
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'changed my mind' } }));

    const opened = JSON.parse(await server.line(/session s1 opened/));
    expect(opened).toMatchObject({ level: 30, msg: 'session s1 opened (ws)' });
    const cancelled = JSON.parse(await server.line(/request 3 .*cancelled/));
    expect(cancelled).toMatchObject({ level: 30, msg: 'request 3 tools/call cancelled (client)', reason: 'client' });

    server.child.kill('SIGTERM');
    const draining = JSON.parse(await server.line(/"msg":"draining /));
    expect(draining).toMatchObject({ level: 30, msg: 'draining 1 session, 1 request in flight (Ctrl-C again to force)', sessions: 1, inFlight: 1 });
    const countdown = JSON.parse(await server.line(/"msg":"drain: /));
    expect(countdown.msg).toMatch(/^drain: 1 session, 1 request left, deadline in \d+s$/);
    const closed = JSON.parse(await server.line(/session s1 closed/));
    expect(closed).toMatchObject({ msg: 'session s1 closed (drain-timeout)', reason: 'drain-timeout' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderrLines.some((l) => l.includes('request 2 tools/call cancelled (drain-timeout)'))).toBe(true);
    expect(server.lastJson()).toMatchObject({ sessions: 1, requests: 3, cancelled: { client: 1, 'drain-timeout': 1 } });
    expect(messages.find((m) => m.id === 2)).toMatchObject({ error: { code: -32800 } });
  });
});
