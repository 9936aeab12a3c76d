import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { httpMetrics, supervisorMetrics } from '../../src/index.js';
import { createMcpServer } from '../../src/mcp/index.js';
import { createTestClock } from '../../src/runtime/clock.js';
import { listenHttp } from '../../src/transports/http.js';
import { closeAfterEach } from '../helpers/close-after-each.js';
import { post, raw } from '../transports/http-harness.js';

const closeLater = closeAfterEach();

/** The value of one sample in a Prometheus text exposition (`undefined` when absent). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const LEGACY = '2025-11-25';
const initialize = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const MODERN_HEADERS = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' };
const modernList = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/list',
  params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
};

describe('the Streamable HTTP listener in Prometheus', () => {
  it('exposes legacy sessions (created, closed idle, deleted, refused at maxSessions), exchanges and refusals by status', async () => {
    const clock = createTestClock();
    const server = closeLater(createMcpServer({ name: 'm', version: '1.0.0', tools: [] }));
    const listener = closeLater(await listenHttp(server, { host: '127.0.0.1', port: 0, maxSessions: 2, sessionIdleTimeoutMs: 40, timers: clock }));
    const registry = new Registry();
    supervisorMetrics(server, { registry });
    const http = httpMetrics(listener, { registry, labels: { server: 'm' } });

    const before = await registry.metrics();
    expect(sample(before, 'session_supervisor_http_exchanges_total', '{server="m"}')).toBe(0);
    expect(sample(before, 'session_supervisor_http_sessions', '{server="m"}')).toBe(0);

    const a = await post(listener.url, initialize);
    const b = await post(listener.url, initialize);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await post(listener.url, initialize)).status).toBe(503);
    const deleted = await raw(listener.url, { method: 'DELETE', headers: { 'mcp-session-id': b.headers['mcp-session-id'] as string, 'mcp-protocol-version': LEGACY } });
    expect(deleted.status).toBe(200);
    expect((await post(listener.url, modernList, MODERN_HEADERS)).status).toBe(200);
    expect((await raw(listener.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
    expect((await raw(listener.url, { method: 'GET' })).status).toBe(405);

    const open = await registry.metrics();
    expect(sample(open, 'session_supervisor_http_sessions', '{server="m"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_sessions_created_total', '{server="m"}')).toBe(2);
    expect(sample(open, 'session_supervisor_http_sessions_deleted_total', '{server="m"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_sessions_refused_total', '{server="m"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_exchanges_total', '{server="m"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_exchanges', '{server="m"}')).toBe(0);
    expect(sample(open, 'session_supervisor_http_refused_total', '{server="m",status="415"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_refused_total', '{server="m",status="405"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_refused_total', '{server="m",status="503"}')).toBe(1);
    expect(sample(open, 'session_supervisor_http_writes_after_close_total', '{server="m"}')).toBe(0);
    expect(open).toContain('# TYPE session_supervisor_http_sessions_expired_total counter');
    expect(open).toContain('# TYPE session_supervisor_http_sessions gauge');

    // The idle session left is closed by the idle timeout once the reaper sweeps past it.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const closed = new Promise((resolve) => server.on('session.closed', resolve));
    clock.advance(10);
    await closed;
    const reaped = await registry.metrics();
    expect(sample(reaped, 'session_supervisor_http_sessions_expired_total', '{server="m"}')).toBe(1);
    expect(sample(reaped, 'session_supervisor_http_sessions', '{server="m"}')).toBe(0);

    http.stop();
    http.stop();
    const after = await registry.metrics();
    expect(after).not.toContain('session_supervisor_http_');
    expect(after).toContain('session_supervisor_sessions_opened_total');
  });

  it('refuses a bad label name before registering anything', () => {
    const registry = new Registry();
    expect(() => httpMetrics({ stats: () => ({}) as never }, { registry, labels: { 'bad-name': 'x' } })).toThrow(RangeError);
    expect(registry.getMetricsAsArray()).toEqual([]);
  });
});
