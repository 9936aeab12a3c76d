import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { untilChanged } from '../fixtures/mcp-sdk-common.js';

// SDK 2.x over HTTP: `createMcpHandler` builds a server and a single-exchange transport for every
// request itself, so there is no transport for guardTransport to wrap. What the guard would add —
// a closed exchange cancels its handler, and nothing is written or thrown after it — is checked
// here against the SDK as it is, on a real socket with a client that goes away mid-call, for both
// of its paths (the 2026-07-28 per-request exchange and the stateless 2025 fallback).

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'leaver', version: '1.0.0' },
};

interface Rig {
  url: string;
  http: Server;
  events: Array<{ event: string; aborted?: boolean }>;
  errors: string[];
  changed: EventEmitter;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    rig.http.closeAllConnections();
    await new Promise((resolve) => rig.http.close(resolve));
  }
});

async function startRig(): Promise<Rig> {
  const changed = new EventEmitter();
  const events: Rig['events'] = [];
  const errors: string[] = [];
  const push = (event: { event: string; aborted?: boolean }): void => {
    events.push(event);
    changed.emit('change');
  };
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({ name: 'v2-http', version: '1.0.0' });
      // Runs until its signal aborts: only the client going away can end it.
      server.registerTool('hold', { inputSchema: z.object({}) }, async (_args, ctx) => {
        const { signal } = ctx.mcpReq;
        push({ event: 'started' });
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        push({ event: 'finished', aborted: signal.aborted });
        return { content: [{ type: 'text', text: 'late answer' }] };
      });
      server.server.onerror = (error) => errors.push(String(error));
      return server;
    },
    { onerror: (error) => errors.push(String(error)) },
  );
  const node = toNodeHandler(handler, { onerror: (error) => errors.push(String(error)) });
  // node:http's types mark `method` optional; the adapter's structural type wants it set (it always is on a server).
  const http = createServer((req, res) => void node(req as Parameters<typeof node>[0], res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const rig = { url: `http://127.0.0.1:${(http.address() as { port: number }).port}/mcp`, http, events, errors, changed };
  rigs.push(rig);
  return rig;
}

const until = (rig: Rig, predicate: () => boolean): Promise<void> => untilChanged(rig.changed, predicate);

const ERAS = {
  'a 2026-07-28 exchange': {
    headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'hold' },
    meta: { _meta: MODERN_META },
  },
  'a 2025-era request (stateless fallback)': { headers: { 'mcp-protocol-version': '2025-06-18' }, meta: {} },
} as const;

describe.each(Object.entries(ERAS))('SDK 2.x createMcpHandler, client gone mid-call on %s', (_era, { headers, meta }) => {
  it('aborts the handler, writes and throws nothing after the exchange closed', async () => {
    const rig = await startRig();
    const client = new AbortController();
    const body = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hold', arguments: {}, ...meta } };
    const response = fetch(rig.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(body),
      signal: client.signal,
    }).then(
      async (res) => res.text(),
      (error: unknown) => `rejected: ${(error as Error).name}`,
    );
    await until(rig, () => rig.events.some((e) => e.event === 'started'));
    client.abort();
    await until(rig, () => rig.events.some((e) => e.event === 'finished'));
    expect(await response).toMatch(/^rejected: AbortError|^$/);
    expect(rig.events).toEqual([{ event: 'started' }, { event: 'finished', aborted: true }]);
    // The late answer went nowhere, without an error: the SDK's protocol layer drops the result of an
    // aborted handler in the promise chain that settles it (microtasks, all run before setImmediate),
    // and its exchange transport drops every send after its close.
    await new Promise((resolve) => setImmediate(resolve));
    expect(rig.errors).toEqual([]);
  });
});
