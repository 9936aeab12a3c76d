import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { demoTools } from '../../src/demo/tools.js';
import { createMcpServer, type McpServer } from '../../src/mcp/index.js';
import { traceSupervisor, TRACE_ATTRIBUTES as A, type SupervisorTracing } from '../../src/observability/tracing.js';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';
import { post } from '../transports/http-harness.js';

interface Rig {
  server: McpServer;
  listener: HttpListener;
  exporter: InMemorySpanExporter;
  tracing: SupervisorTracing;
}

let rig: Rig | undefined;

afterEach(async () => {
  const r = rig;
  rig = undefined;
  if (r === undefined) return;
  await r.server.close();
  await r.listener.close();
  r.tracing.stop();
});

async function start(): Promise<Rig> {
  const server = createMcpServer({ name: 'traced-http', version: '1.0.0', tools: demoTools });
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracing = traceSupervisor(server, { tracer: provider.getTracer('test') });
  const listener = await listenHttp(server, { host: '127.0.0.1', port: 0 });
  rig = { server, listener, exporter, tracing };
  return rig;
}

const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'tracing-test', version: '1.0.0' },
};

function spansNamed(r: Rig, name: string): ReadableSpan[] {
  return r.exporter.getFinishedSpans().filter((s) => s.name === name);
}

describe('traceSupervisor over Streamable HTTP', () => {
  it('a modern (2026-07-28) exchange belongs to no MCP session: no mcp.session.id; a tool error is ERROR with error.type tool_error', async () => {
    const r = await start();
    const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' };
    const ok = await post(r.listener.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' }, _meta: MODERN_META } }, { ...headers, 'mcp-name': 'echo' });
    expect(ok.status).toBe(200);
    const failed = await post(r.listener.url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fail', arguments: { message: 'no luck' }, _meta: MODERN_META } }, { ...headers, 'mcp-name': 'fail' });
    expect(failed.status).toBe(200);
    expect((failed.json() as { result: { isError?: boolean } }).result.isError).toBe(true);

    const [echo] = spansNamed(r, 'tools/call echo');
    expect(echo?.attributes[A.outcome]).toBe('result');
    expect(echo?.status.code).toBe(SpanStatusCode.UNSET);
    expect(echo?.attributes[A.mcpSessionId]).toBeUndefined();
    expect(typeof echo?.attributes[A.sessionId]).toBe('string');

    const [fail] = spansNamed(r, 'tools/call fail');
    expect(fail?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'tool_error' });
    expect(fail?.attributes).toMatchObject({ [A.outcome]: 'error', [A.errorType]: 'tool_error', [A.toolName]: 'fail' });
    expect(fail?.attributes[A.mcpSessionId]).toBeUndefined();
  });

  it('a legacy (2025-11-25) session: mcp.session.id is the Mcp-Session-Id the client sends', async () => {
    const r = await start();
    const init = await post(r.listener.url, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'tracing-test', version: '1.0.0' } },
    });
    expect(init.status).toBe(200);
    const sessionId = init.headers['mcp-session-id'];
    expect(typeof sessionId).toBe('string');
    const session = { 'mcp-session-id': String(sessionId), 'mcp-protocol-version': '2025-11-25' };
    expect((await post(r.listener.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status).toBe(202);
    const called = await post(r.listener.url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }, session);
    expect(called.status).toBe(200);

    const spans = [...spansNamed(r, 'initialize'), ...spansNamed(r, 'tools/call echo')];
    expect(spans).toHaveLength(2);
    for (const span of spans) expect(span.attributes[A.mcpSessionId]).toBe(sessionId);
    expect(spans[0]?.attributes[A.sessionId]).not.toBe(sessionId);
  });
});
