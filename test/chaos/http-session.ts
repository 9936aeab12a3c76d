// HTTP helpers of the chaos faults: the server's Streamable HTTP endpoint (same port as its WebSocket),
// legacy sessions opened and always deleted, answers read from JSON or SSE bodies, and the check that
// every request id is answered at most once.
import { within } from './client.js';
import type { FaultEnv } from './faults.js';
import { POST_HEADERS, raw, type RawResponse } from '../transports/http-harness.js';

/** The protocol version of the legacy sessions (resumable: SSE with event ids). */
export const LEGACY_VERSION = '2025-11-25';

/** `ws://HOST:PORT` → `http://HOST:PORT/mcp` (serve answers both on one port). */
export function mcpUrl(env: FaultEnv): string {
  return `${env.url.replace(/^ws:/, 'http:')}/mcp`;
}

/** A JSON-RPC message read from a response. */
export interface Message {
  id?: unknown;
  method?: string;
  result?: unknown;
  error?: { code: number; message?: string };
}

/** The messages of a body: one JSON value, or the `data:` of each SSE event (empty priming events skipped). */
export function messagesOf(response: RawResponse): Message[] {
  if (response.text === '') return [];
  if (!String(response.headers['content-type']).startsWith('text/event-stream')) return [JSON.parse(response.text) as Message];
  const out: Message[] = [];
  for (const block of response.text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data !== '') out.push(JSON.parse(data) as Message);
  }
  return out;
}

/** The event ids of an SSE body. */
export function eventIdsOf(response: RawResponse): string[] {
  return response.text
    .split('\n')
    .filter((line) => line.startsWith('id:'))
    .map((line) => line.slice(3).trim());
}

/** Count answers to `id` in `messages`: more than one is a duplicate response. */
export function answersTo(env: FaultEnv, messages: readonly Message[], id: unknown): Message | undefined {
  const answers = messages.filter((m) => m.method === undefined && m.id === id);
  if (answers.length > 1) {
    env.figures.duplicateResponses += answers.length - 1;
    env.figures.problems.push(`${env.label}: ${answers.length} answers to id ${String(id)}`);
  }
  return answers[0];
}

/** Whether a failure is explained by the server shutting down since `generation` started the fault. */
export function shutdownExplains(env: FaultEnv, generation: number): boolean {
  return env.run.shutdownStartedAt.has(generation);
}

/** One request with a bound (10 s); `undefined` when it failed or timed out. */
export async function request(url: string, options: Parameters<typeof raw>[1]): Promise<RawResponse | undefined> {
  try {
    return await within(raw(url, options), 10_000);
  } catch {
    return undefined;
  }
}

/** Headers of a POST in a legacy session. */
export function sessionHeaders(sessionId: string): Record<string, string> {
  return { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION };
}

/**
 * `initialize` a legacy session and send `notifications/initialized`: the session id, `'capped'` on a
 * 503 with `Retry-After` (the session cap), or `undefined` (recorded as unexpected unless a shutdown
 * explains it).
 */
export async function openSession(env: FaultEnv, url: string): Promise<string | 'capped' | undefined> {
  const generation = env.run.generation;
  env.figures.requests += 1;
  const body = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: 'chaos', version: '1' } } };
  const response = await request(url, { method: 'POST', headers: { ...POST_HEADERS }, body: JSON.stringify(body) });
  if (response?.status === 503 && response.headers['retry-after'] !== undefined) return 'capped';
  const sessionId = response?.headers['mcp-session-id'];
  const answer = response === undefined || response.status !== 200 ? undefined : answersTo(env, messagesOf(response), 0);
  if (typeof sessionId !== 'string' || answer?.result === undefined) {
    if (!shutdownExplains(env, generation)) env.unexpected(`${env.label}: initialize got ${response?.status ?? 'no answer'} ${response?.text.slice(0, 120) ?? ''}`);
    return undefined;
  }
  const ack = await request(url, { method: 'POST', headers: sessionHeaders(sessionId), body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
  if (ack?.status !== 202 && !shutdownExplains(env, generation)) env.unexpected(`${env.label}: notifications/initialized got ${ack?.status ?? 'no answer'}`);
  return sessionId;
}

/** DELETE a legacy session: 200, or 404 when it ended already (or a shutdown explains anything else). */
export async function closeSession(env: FaultEnv, url: string, sessionId: string, generation: number): Promise<void> {
  const response = await request(url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION } });
  if (response?.status !== 200 && response?.status !== 404 && !shutdownExplains(env, generation)) {
    env.unexpected(`${env.label}: DELETE got ${response?.status ?? 'no answer'}`);
  }
}
