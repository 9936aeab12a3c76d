import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { disconnectAction, guardTransport, type GuardedTransport, type GuardStats } from '../../src/mcp/index.js';

// An official-SDK Streamable HTTP server (stateful sessions, the SDK's own example layout) on a real
// socket, and the official SDK client. The client goes away mid-call without a DELETE.

interface Rig {
  sessions: Map<string, { handleRequest(req: unknown, res: unknown, body?: unknown): Promise<void> }>;
  errors: string[];
  events: Array<{ event: string; aborted?: boolean }>;
  guards: GuardedTransport[];
  url: string;
  http: Server;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    rig.http.closeAllConnections();
    await new Promise((resolve) => rig.http.close(resolve));
  }
});

async function startRig(guard: boolean): Promise<Rig> {
  const rig = { sessions: new Map(), errors: [], events: [], guards: [] } as unknown as Rig;
  rig.http = createServer((req, res) => {
    const sid = req.headers['mcp-session-id'];
    let entry = typeof sid === 'string' ? rig.sessions.get(sid) : undefined;
    void (async () => {
      if (entry === undefined) {
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          onsessioninitialized: (id) => {
            rig.sessions.set(id, served);
          },
        });
        const served = guard ? guardTransport(transport, { idleTimeoutMs: 200 }) : transport;
        if (guard) rig.guards.push(served as GuardedTransport);
        const server = new McpServer({ name: 'http-fixture', version: '1.0.0' });
        server.registerTool('slow', { inputSchema: { ms: z.number() } }, async ({ ms }, extra) => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          rig.events.push({ event: 'finished', aborted: extra.signal.aborted });
          return { content: [{ type: 'text', text: 'done' }] };
        });
        server.server.onerror = (error) => rig.errors.push(String(error));
        server.server.onclose = () => {
          for (const [id, value] of rig.sessions) if (value === served) rig.sessions.delete(id);
          rig.events.push({ event: 'session-closed' });
        };
        await server.connect(served);
        entry = served;
      }
      await entry.handleRequest(req, res);
    })();
  });
  await new Promise<void>((resolve) => rig.http.listen(0, '127.0.0.1', resolve));
  rig.url = `http://127.0.0.1:${(rig.http.address() as { port: number }).port}/mcp`;
  rigs.push(rig);
  return rig;
}

/** Connect, start a 400 ms call, and go away 100 ms into it without ending the session. */
async function clientGoesAway(rig: Rig): Promise<string> {
  const client = new Client({ name: 'leaver', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(rig.url));
  await client.connect(transport);
  const call = client.callTool({ name: 'slow', arguments: { ms: 400 } }).catch(() => 'rejected');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await transport.close();
  expect(await call).toBe('rejected');
  return transport.protocolVersion ?? '';
}

const until = async (predicate: () => boolean): Promise<void> => {
  for (let turn = 0; turn < 400 && !predicate(); turn += 1) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('guardTransport on an official-SDK Streamable HTTP server', () => {
  it('client goes away mid-call: unguarded the late answer fails and the session is never cleaned up; guarded it is blocked and counted and the session closes when idle', async () => {
    const [bare, guarded] = await Promise.all([startRig(false), startRig(true)]);
    const [version] = await Promise.all([clientGoesAway(bare), clientGoesAway(guarded)]);
    // The negotiated version predates 2026-07-28: the disconnect is not a cancellation (spec), so the handler runs on.
    expect(disconnectAction('streamable-http', version)).toBe('continue');
    await until(() => bare.events.length > 0 && guarded.events.some((e) => e.event === 'session-closed'));
    // Unguarded: the handler finished, its answer had nowhere to go (an error), and the session is still there.
    expect(bare.events).toEqual([{ event: 'finished', aborted: false }]);
    expect(bare.errors.join('\n')).toMatch(/No connection established for request ID/);
    expect(bare.sessions.size).toBe(1);
    // Guarded: the same handler finished; the answer was blocked and counted, no error; the idle session closed.
    expect(guarded.events).toEqual([{ event: 'finished', aborted: false }, { event: 'session-closed' }]);
    expect(guarded.errors).toEqual([]);
    expect(guarded.sessions.size).toBe(0);
    const stats: GuardStats = await guarded.guards[0]!.closed;
    expect(stats).toMatchObject({ state: 'closed', inFlight: 0, blockedSends: 1, closeReason: null });
  });
});
