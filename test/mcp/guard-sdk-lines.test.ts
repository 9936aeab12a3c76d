import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnLineChild, type LineChild } from './child.js';

// The same stdio server built with each official SDK line — @modelcontextprotocol/sdk 1.x and
// @modelcontextprotocol/server 2.x — guarded, in real child processes: stdin EOF, EPIPE and
// unreadable lines must come out the same on both.
const FIXTURES = {
  'SDK 1.x (@modelcontextprotocol/sdk)': 'test/fixtures/mcp-sdk-server.ts',
  'SDK 2.x (@modelcontextprotocol/server)': 'test/fixtures/mcp-sdk2-server.ts',
} as const;

async function start(fixture: string, guard: boolean): Promise<LineChild> {
  const server = spawnLineChild(['--import', 'tsx', fixture], { MCP_GUARD: guard ? '1' : '0', MCP_DRAIN_MS: '10000' });
  server.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
  await server.waitFor('out', (m) => m.id === 1);
  server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return server;
}

const call = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const parseError = (data?: string) => ({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error', ...(data === undefined ? {} : { data }) } });

afterEach(() => killAll());

describe.each(Object.entries(FIXTURES))('guardTransport on a stdio server built with %s', (_line, fixture) => {
  it('stdin EOF mid-call: the answer in flight is still written, then the process exits 0 by itself', async () => {
    const server = await start(fixture, true);
    server.send(call(2, 'slow', { ms: 300 }));
    await server.waitFor('events', (e) => e.event === 'started' && e.id === 2);
    server.child.stdin.end();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.out.filter((m) => m.id === 2)).toEqual([{ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'slept 300 ms' }] } }]);
    expect(server.events).toContainEqual({ event: 'finished', id: 2, aborted: false });
    const closed = server.events.find((e) => e.event === 'guard-closed');
    expect(closed.stats).toMatchObject({ state: 'closed', inFlight: 0, completed: 2, blockedSends: 0, closeReason: null });
  });

  it('reader goes away (EPIPE): no crash, the call still in flight is cancelled with transport-closed, exit 0', async () => {
    const server = await start(fixture, true);
    server.send(call(2, 'slow', { ms: 300 }));
    server.send(call(3, 'slow', { ms: 60_000 }));
    await server.waitFor('events', (e) => e.event === 'started' && e.id === 3);
    server.child.stdout.destroy();
    // The first answer hits EPIPE: the output is gone, call 3 is cancelled and told so.
    const aborted = await server.waitFor('events', (e) => e.event === 'aborted' && e.id === 3);
    expect(aborted.reason).toBe('transport-closed');
    const closed = await server.waitFor('events', (e) => e.event === 'guard-closed');
    expect(closed.stats).toMatchObject({ state: 'closed', closeReason: 'transport-closed', cancelled: { 'transport-closed': 1 } });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
  });

  it('unreadable lines (malformed JSON, invalid UTF-8, not JSON-RPC) are answered with id null and the session goes on', async () => {
    const server = await start(fixture, true);
    const stdin = server.child.stdin;
    stdin.write('{"jsonrpc":"2.0","id":4,"method":"tools/call",\n');
    stdin.write(Buffer.from([0xff, 0xfe, 0x0a]));
    // Valid JSON around an invalid byte: the SDKs would decode it to U+FFFD and answer id 5.
    stdin.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a'), Buffer.from([0xff]), Buffer.from('b"}}}\n')]));
    stdin.write('{"hello":"world"}\n');
    server.send(call(6, 'echo', { text: 'still here' }));
    await server.waitFor('out', (m) => m.id === 6);
    expect(server.out.filter((m) => m.id !== 1)).toEqual([
      parseError(),
      parseError('invalid UTF-8'),
      parseError('invalid UTF-8'),
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request', data: 'Not a JSON-RPC 2.0 message' } },
      { jsonrpc: '2.0', id: 6, result: { content: [{ type: 'text', text: 'still here' }] } },
    ]);
    expect(server.child.exitCode).toBeNull();
    server.child.stdin.end();
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});

describe('the same SDK 2.x server unguarded, for contrast', () => {
  it('stdin EOF mid-call loses the answer (the handler is aborted); unreadable lines get no answer at all', async () => {
    const server = await start(FIXTURES['SDK 2.x (@modelcontextprotocol/server)'], false);
    server.child.stdin.write('{oops\n');
    server.send(call(6, 'echo', { text: 'x' }));
    await server.waitFor('out', (m) => m.id === 6);
    server.send(call(2, 'slow', { ms: 300 }));
    await server.waitFor('events', (e) => e.event === 'started' && e.id === 2);
    server.child.stdin.end();
    await server.waitFor('events', (e) => e.event === 'finished' && e.id === 2);
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.events).toContainEqual({ event: 'finished', id: 2, aborted: true });
    expect(server.out.filter((m) => m.id === 2 || m.id === null)).toEqual([]);
  });
});
