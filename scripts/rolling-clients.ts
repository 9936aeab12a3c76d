// The clients of the rolling restart: modern exchanges (plain fetch) and legacy MCP sessions (the
// official SDK client), each classifying what every request came to.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { LegacyStory, Ledger, Outcome } from './rolling-ledger.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a JSON-RPC error body means for the ledger (undefined: not a known refusal or cancel). */
function classifyError(error: { code?: unknown; data?: unknown } | undefined): Outcome | undefined {
  if (error === undefined) return undefined;
  const data = (typeof error.data === 'object' && error.data !== null ? error.data : {}) as Record<string, unknown>;
  if (error.code === -32000 && typeof data['retryAfterMs'] === 'number') return { kind: 'refused', how: 'jsonrpc -32000 (session draining, retryAfterMs)' };
  if (error.code === -32800 && typeof data['reason'] === 'string') return { kind: 'cancelled', reason: data['reason'] };
  return undefined;
}

/** How long each modern `sleep` tool call runs: long enough to be in flight when a drain starts. */
const MODERN_SLEEP_MS = 20;

/** What a 2026-07-28 request carries instead of a session (`_meta`), and its routing headers. */
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'rolling-modern', version: '1.0.0' },
};
const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'sleep',
};

/** One modern exchange: a 2026-07-28 `tools/call sleep` with no session, through the balancer. */
export async function modernRequest(url: string, id: number): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: MODERN_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'sleep', arguments: { ms: MODERN_SLEEP_MS }, _meta: MODERN_META } }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    return { kind: 'lost', detail: `modern ${id}: ${String(error)}` };
  }
  const text = await response.text().catch(() => '');
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const text0 = body?.result?.content?.[0]?.text;
  if (response.status === 200 && body?.id === id && body?.result?.isError !== true && text0 === `slept ${MODERN_SLEEP_MS} ms`) return { kind: 'answered' };
  if (response.status === 503) {
    if (typeof body?.error?.data?.retryAfterMs === 'number' && response.headers.get('retry-after') !== null) {
      return { kind: 'refused', how: 'http 503 (Retry-After, retryAfterMs)' };
    }
    return { kind: 'refused', how: 'http 503 from the balancer (no instance up)' };
  }
  return classifyError(body?.error) ?? { kind: 'lost', detail: `modern ${id}: HTTP ${response.status} ${text.slice(0, 120)}` };
}

/** Run a modern client until `stop()` says so. */
export async function runModernClient(url: string, ledger: Ledger, stop: () => boolean, first: number): Promise<void> {
  for (let id = first; !stop(); id += 1) {
    const outcome = await modernRequest(url, id);
    ledger.record(outcome);
    if (outcome.kind === 'refused') await pause(20);
  }
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'rolling-legacy', version: '1.0.0' });
  client.onerror = () => {};
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return client;
}

/** What a failed legacy call means. */
function classifyLegacy(error: unknown): Outcome {
  if (error instanceof StreamableHTTPError) {
    if (error.code === 404) return { kind: 'session-ended' };
    if (error.code === 503) return { kind: 'refused', how: 'http 503 (legacy)' };
    return { kind: 'lost', detail: `legacy: HTTP ${String(error.code)} ${error.message.slice(0, 120)}` };
  }
  if (error instanceof McpError) {
    const outcome = classifyError({ code: error.code, data: error.data });
    if (outcome !== undefined) return outcome;
  }
  return { kind: 'lost', detail: `legacy: ${String(error).slice(0, 160)}` };
}

/**
 * Run a legacy client (the official SDK over Streamable HTTP, a session per `initialize`) until
 * `stop()`, then make one last call; a 404 means its session ended: it re-initializes.
 */
export async function runLegacyClient(url: string, ledger: Ledger, stop: () => boolean, story: LegacyStory): Promise<void> {
  let client: Client | undefined;
  let finalAttempts = 0;
  for (;;) {
    if (client === undefined) {
      try {
        client = await connect(url);
        if (story.met404 > story.reinitialized) story.reinitialized += 1;
      } catch (error) {
        const outcome = classifyLegacy(error);
        ledger.record(outcome.kind === 'session-ended' ? { kind: 'lost', detail: `initialize got 404: ${String(error)}` } : outcome);
        if (outcome.kind === 'lost') return;
        await pause(50);
        continue;
      }
    }
    const last = stop();
    if (last && (finalAttempts += 1) > 200) return;
    let outcome: Outcome;
    try {
      const result = await client.callTool({ name: 'sleep', arguments: { ms: 30 } });
      outcome = result.isError === true ? { kind: 'lost', detail: `legacy tool error ${JSON.stringify(result.content)}` } : { kind: 'answered' };
    } catch (error) {
      outcome = classifyLegacy(error);
    }
    ledger.record(outcome);
    if (outcome.kind === 'answered' && last) {
      story.finished = true;
      await client.close().catch(() => undefined);
      return;
    }
    if (outcome.kind === 'session-ended') {
      story.met404 += 1;
      await client.close().catch(() => undefined);
      client = undefined;
    } else if (outcome.kind === 'lost') {
      await client.close().catch(() => undefined);
      return;
    } else if (outcome.kind !== 'answered') {
      await pause(50);
    }
  }
}
