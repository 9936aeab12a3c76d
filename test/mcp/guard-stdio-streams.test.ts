import { EventEmitter, once } from 'node:events';
import { PassThrough } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestClock } from '../../src/index.js';
import { guardTransport } from '../../src/mcp/index.js';
import { untilChanged } from '../fixtures/mcp-sdk-common.js';
import { waitOrAbort } from '../fixtures/wait-or-abort.js';

// The SDK's stdio transport over in-process streams, given to the guard as `stdio`, so listeners
// and timers can be counted. Every wait is for an event (a line written, a tool started or aborted).

async function setup(options: { maxLineBytes?: number } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const changed = new EventEmitter();
  const written: any[] = [];
  const started: unknown[] = [];
  const aborted: unknown[] = [];
  let buffer = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      written.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
    changed.emit('change');
  });
  const until = (predicate: () => boolean): Promise<void> => untilChanged(changed, predicate);
  const clock = createTestClock();
  const server = new McpServer({ name: 'streams', version: '1.0.0' });
  server.registerTool('wait', { inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    started.push(extra.requestId);
    changed.emit('change');
    await waitOrAbort(ms, extra.signal, () => {
      aborted.push(extra.signal.reason);
      changed.emit('change');
    });
    return { content: [{ type: 'text', text: 'done' }] };
  });
  const guarded = guardTransport(new StdioServerTransport(input, output), { stdio: { input, output }, drainTimeoutMs: 100, clock, ...options });
  await server.connect(guarded);
  const send = (m: unknown) => input.write(`${JSON.stringify(m)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '0' } } });
  await until(() => written.some((m) => m.id === 1));
  written.length = 0;
  const callWait = async (id: number, ms: number): Promise<void> => {
    send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'wait', arguments: { ms } } });
    await until(() => started.includes(id));
  };
  return { input, output, written, clock, aborted, guarded, send, until, callWait };
}

describe('guardTransport over the SDK stdio transport with its own streams', () => {
  it('drains on input end, cancels at the deadline, and leaves only one inert error listener on each stream', async () => {
    const { input, output, written, clock, aborted, guarded, until, callWait } = await setup();
    await callWait(2, 60_000);
    input.end();
    await once(input, 'end');
    expect(guarded.state).toBe('draining');
    clock.advance(100);
    const stats = await guarded.closed;
    await until(() => written.length === 1 && aborted.length === 1);
    expect(written).toEqual([{ jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled', data: { reason: 'drain-timeout' } } }]);
    expect(aborted).toEqual(['drain-timeout']);
    expect(stats).toMatchObject({ closeReason: 'drain-timeout', inFlight: 0 });
    expect(clock.pending).toBe(0);
    expect(input.listenerCount('end')).toBe(0);
    expect(input.listenerCount('data')).toBe(0);
    expect(output.listenerCount('close')).toBe(0);
    // The one listener kept on purpose: a late EPIPE must never become an uncaught exception.
    expect(output.listenerCount('error')).toBe(1);
    expect(input.listenerCount('error')).toBe(1);
  });

  it.each([
    ['StdioServerTransport', StdioServerTransport],
    ['a subclass of it', class AppStdio extends StdioServerTransport {}],
  ])('refuses %s over other streams when they are not given: ERR_INVALID_OPTION, nothing read', async (_name, Transport) => {
    const input = new PassThrough();
    const output = new PassThrough();
    const server = new McpServer({ name: 'streams', version: '1.0.0' });
    const stdinDataListeners = process.stdin.listenerCount('data');
    const guarded = guardTransport(new Transport(input, output));
    await expect(server.connect(guarded)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    // The check started and closed the SDK transport: no listener is left on either stream.
    expect(input.listenerCount('data')).toBe(0);
    expect(process.stdin.listenerCount('data')).toBe(stdinDataListeners);
    expect(await guarded.closed).toMatchObject({ state: 'closed', closeReason: 'session-failed' });
  });

  it('treats an EPIPE on the output as the output gone: cancels with transport-closed and never throws', async () => {
    const { output, aborted, guarded, until, callWait } = await setup();
    await callWait(2, 60_000);
    output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const stats = await guarded.closed;
    await until(() => aborted.length === 1);
    expect(aborted).toEqual(['transport-closed']);
    expect(stats).toMatchObject({ closeReason: 'transport-closed', cancelled: { 'transport-closed': 1 } });
    await expect(guarded.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'late' } })).resolves.toBeUndefined();
    expect(guarded.stats().blockedSends).toBe(1);
  });

  it('answers a line over maxLineBytes with -32004 and a batch with -32600, both with id null, and goes on', async () => {
    const { input, written, guarded, send, until } = await setup({ maxLineBytes: 256 });
    input.write(`{"jsonrpc":"2.0","id":9,"method":"ping","params":{"pad":"${'x'.repeat(300)}"}}\n`);
    input.write('[{"jsonrpc":"2.0","id":10,"method":"ping"}]\n');
    send({ jsonrpc: '2.0', id: 11, method: 'ping' });
    await until(() => written.some((m) => m.id === 11));
    expect(written).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32004, message: 'Message too large', data: { limit: 256 } } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request', data: 'Batches are not supported' } },
      { jsonrpc: '2.0', id: 11, result: {} },
    ]);
    expect(guarded.stats()).toMatchObject({ state: 'connected', requests: 2, completed: 2 });
    await guarded.close();
  });
});
