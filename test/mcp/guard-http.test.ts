import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { McpServer as McpServer2 } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestClock, type TestClock } from '../../src/index.js';
import { untilChanged } from '../fixtures/mcp-sdk-common.js';
import { disconnectAction, guardTransport, type GuardedTransport, type GuardStats } from '../../src/mcp/index.js';

// An official-SDK Streamable HTTP server (stateful sessions, the SDK's own example layout) on a real
// socket, and the official SDK client. The client goes away mid-call without a DELETE. Both SDK
// lines: 1.x `StreamableHTTPServerTransport`, and 2.x `McpServer` on `NodeStreamableHTTPServerTransport`
// (@modelcontextprotocol/node, the 2.x sessionful wiring for 2025-era clients).
//
// Nothing here waits on wall-clock time: the tool runs until the test releases it, the guard's idle
// timeout runs on a test clock, and every wait is for an event. (With a 200 ms real idle timeout, a
// busy machine could idle the session out between the client's `initialize` and its next POST, and
// the SDK answered that POST "Bad Request: Server not initialized".)

const IDLE_MS = 60_000;

interface Rig {
  sessions: Map<string, { handleRequest(req: unknown, res: unknown, body?: unknown): Promise<void> }>;
  errors: string[];
  events: Array<{ event: string; aborted?: boolean }>;
  guards: GuardedTransport[];
  /** HTTP exchanges whose response has not closed yet. */
  openExchanges: number;
  /** GET requests seen (the client's standalone SSE stream). */
  streams: number;
  /** Lets the running tool call finish. */
  release: () => void;
  changed: EventEmitter;
  url: string;
  http: Server;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    rig.release();
    rig.http.closeAllConnections();
    await new Promise((resolve) => rig.http.close(resolve));
  }
});

const until = (rig: Rig, predicate: () => boolean): Promise<void> => untilChanged(rig.changed, predicate);

type Line = 'v1' | 'v2';

/** What each SDK line reports for an answer whose exchange is gone. */
const UNDELIVERABLE: Record<Line, RegExp> = {
  v1: /No connection established for request ID/,
  v2: /Response for request ID \d+ is undeliverable: per-request stream is disconnected/,
};

interface SdkHttpTransport {
  handleRequest(req: unknown, res: unknown, body?: unknown): Promise<void>;
}

/** The SDK line's server with a tool that runs until released, connected to `transport`. */
async function connectServer(line: Line, transport: unknown, tool: (signal: AbortSignal) => Promise<void>, on: { error(error: Error): void; close(): void }): Promise<void> {
  const result = { content: [{ type: 'text' as const, text: 'done' }] };
  if (line === 'v1') {
    const server = new McpServer({ name: 'http-fixture', version: '1.0.0' });
    server.registerTool('slow', { inputSchema: { label: z.string() } }, async (_args, extra) => {
      await tool(extra.signal);
      return result;
    });
    server.server.onerror = on.error;
    server.server.onclose = on.close;
    await server.connect(transport as StreamableHTTPServerTransport);
  } else {
    const server = new McpServer2({ name: 'http-fixture', version: '1.0.0' });
    server.registerTool('slow', { inputSchema: z.object({ label: z.string() }) }, async (_args, ctx) => {
      await tool(ctx.mcpReq.signal);
      return result;
    });
    server.server.onerror = on.error;
    server.server.onclose = on.close;
    await server.connect(transport as NodeStreamableHTTPServerTransport);
  }
}

async function startRig(line: Line, clock: TestClock | undefined): Promise<Rig> {
  const changed = new EventEmitter();
  let released = false;
  const waiting = new Set<() => void>();
  const rig: Rig = {
    sessions: new Map(),
    errors: [],
    events: [],
    guards: [],
    openExchanges: 0,
    streams: 0,
    changed,
    release: () => {
      released = true;
      for (const resume of waiting) resume();
    },
    url: '',
    http: createServer((req, res) => {
      rig.openExchanges += 1;
      if (req.method === 'GET') rig.streams += 1;
      changed.emit('change');
      res.once('close', () => {
        rig.openExchanges -= 1;
        changed.emit('change');
      });
      const sid = req.headers['mcp-session-id'];
      let entry = typeof sid === 'string' ? rig.sessions.get(sid) : undefined;
      void (async () => {
        if (entry === undefined) {
          const options = {
            sessionIdGenerator: randomUUID,
            onsessioninitialized: (id: string) => {
              rig.sessions.set(id, served);
            },
          };
          const transport: SdkHttpTransport = line === 'v1' ? new StreamableHTTPServerTransport(options) : new NodeStreamableHTTPServerTransport(options);
          const served = clock === undefined ? transport : guardTransport(transport as never, { idleTimeoutMs: IDLE_MS, clock });
          if (clock !== undefined) rig.guards.push(served as GuardedTransport);
          const tool = async (signal: AbortSignal): Promise<void> => {
            push({ event: 'started' });
            if (!released) await new Promise<void>((resume) => waiting.add(resume));
            push({ event: 'finished', aborted: signal.aborted });
          };
          await connectServer(line, served, tool, {
            error: (error) => {
              rig.errors.push(String(error));
              changed.emit('change');
            },
            close: () => {
              for (const [id, value] of rig.sessions) if (value === served) rig.sessions.delete(id);
              push({ event: 'session-closed' });
            },
          });
          entry = served;
        }
        await entry.handleRequest(req, res);
      })();
    }),
  };
  const push = (event: { event: string; aborted?: boolean }): void => {
    rig.events.push(event);
    changed.emit('change');
  };
  await new Promise<void>((resolve) => rig.http.listen(0, '127.0.0.1', resolve));
  rig.url = `http://127.0.0.1:${(rig.http.address() as { port: number }).port}/mcp`;
  rigs.push(rig);
  return rig;
}

/** Connect, start a call, and go away while it runs, without ending the session; then let it finish. */
async function clientGoesAway(rig: Rig): Promise<string> {
  const client = new Client({ name: 'leaver', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(rig.url));
  await client.connect(transport);
  const call = client.callTool({ name: 'slow', arguments: { label: 'x' } }).catch(() => 'rejected');
  // The client also opens its standalone SSE stream (a GET) after connecting: wait for both, so no
  // request of this client can reach the server after it went away.
  await until(rig, () => rig.events.some((e) => e.event === 'started') && rig.streams === 1);
  await transport.close();
  expect(await call).toBe('rejected');
  // The server saw every exchange of the client close before the tool answers.
  await until(rig, () => rig.openExchanges === 0);
  rig.release();
  await until(rig, () => rig.events.some((e) => e.event === 'finished'));
  return transport.protocolVersion ?? '';
}

describe.each(['v1', 'v2'] as const)('guardTransport on an official-SDK Streamable HTTP server (SDK %s)', (line) => {
  it('client goes away mid-call: unguarded the late answer fails and the session is never cleaned up; guarded it is blocked and counted and the session closes when idle', async () => {
    const clock = createTestClock();
    const [bare, guarded] = await Promise.all([startRig(line, undefined), startRig(line, clock)]);
    const [version] = await Promise.all([clientGoesAway(bare), clientGoesAway(guarded)]);
    // The negotiated version predates 2026-07-28: the disconnect is not a cancellation (spec), so the handler runs on.
    expect(disconnectAction('streamable-http', version)).toBe('continue');
    // Unguarded: the handler finished, its answer had nowhere to go (an error), and the session is still there.
    await until(bare, () => bare.errors.length > 0);
    expect(bare.events).toEqual([{ event: 'started' }, { event: 'finished', aborted: false }]);
    expect(bare.errors.join('\n')).toMatch(UNDELIVERABLE[line]);
    expect(bare.sessions.size).toBe(1);
    // Guarded: the same handler finished; the answer was blocked and counted, no error; the session
    // is idle (nothing in flight, no exchange open) and closes once the idle timeout passes.
    const guard = guarded.guards[0]!;
    await until(guarded, () => guard.stats().blockedSends === 1);
    expect(guard.stats()).toMatchObject({ state: 'connected', inFlight: 0 });
    expect(guarded.sessions.size).toBe(1);
    clock.advance(IDLE_MS - 1);
    expect(guard.state).toBe('connected');
    clock.advance(1);
    const stats: GuardStats = await guard.closed;
    await until(guarded, () => guarded.events.some((e) => e.event === 'session-closed'));
    expect(guarded.events).toEqual([{ event: 'started' }, { event: 'finished', aborted: false }, { event: 'session-closed' }]);
    expect(guarded.errors).toEqual([]);
    expect(guarded.sessions.size).toBe(0);
    expect(stats).toMatchObject({ state: 'closed', inFlight: 0, blockedSends: 1, closeReason: null });
    expect(clock.pending).toBe(0);
  });
});
