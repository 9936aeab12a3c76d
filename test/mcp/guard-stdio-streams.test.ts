import { PassThrough } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestClock } from '../../src/index.js';
import { guardTransport } from '../../src/mcp/index.js';
import { waitOrAbort } from '../fixtures/wait-or-abort.js';

// The SDK's stdio transport over in-process streams, so listeners and timers can be counted.

async function setup() {
  const input = new PassThrough();
  const output = new PassThrough();
  const written: any[] = [];
  let buffer = '';
  output.setEncoding('utf8');
  output.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      written.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
  });
  const clock = createTestClock();
  const aborted: unknown[] = [];
  const server = new McpServer({ name: 'streams', version: '1.0.0' });
  server.registerTool('wait', { inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
    await waitOrAbort(ms, extra.signal, () => aborted.push(extra.signal.reason));
    return { content: [{ type: 'text', text: 'done' }] };
  });
  const guarded = guardTransport(new StdioServerTransport(input, output), { stdio: { input, output }, drainTimeoutMs: 100, clock });
  await server.connect(guarded);
  const send = (m: unknown) => input.write(`${JSON.stringify(m)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '0' } } });
  await new Promise((resolve) => setTimeout(resolve, 10));
  written.length = 0;
  return { input, output, written, clock, aborted, guarded, send };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('guardTransport over the SDK stdio transport with its own streams', () => {
  it('drains on input end, cancels at the deadline, and leaves only one inert error listener on each stream', async () => {
    const { input, output, written, clock, aborted, guarded, send } = await setup();
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait', arguments: { ms: 60_000 } } });
    await settle();
    input.end();
    await settle();
    expect(guarded.state).toBe('draining');
    clock.advance(100);
    const stats = await guarded.closed;
    await settle();
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

  it('refuses a StdioServerTransport over other streams when they are not given: ERR_INVALID_OPTION, nothing read', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const server = new McpServer({ name: 'streams', version: '1.0.0' });
    const stdinDataListeners = process.stdin.listenerCount('data');
    await expect(server.connect(guardTransport(new StdioServerTransport(input, output)))).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    // The check started and closed the SDK transport: no listener is left on either stream.
    expect(input.listenerCount('data')).toBe(0);
    expect(process.stdin.listenerCount('data')).toBe(stdinDataListeners);
  });

  it('treats an EPIPE on the output as the output gone: cancels with transport-closed and never throws', async () => {
    const { output, aborted, guarded, send } = await setup();
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait', arguments: { ms: 60_000 } } });
    await settle();
    output.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const stats = await guarded.closed;
    await settle();
    expect(aborted).toEqual(['transport-closed']);
    expect(stats).toMatchObject({ closeReason: 'transport-closed', cancelled: { 'transport-closed': 1 } });
    await expect(guarded.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'late' } })).resolves.toBeUndefined();
    expect(guarded.stats().blockedSends).toBe(1);
  });
});
