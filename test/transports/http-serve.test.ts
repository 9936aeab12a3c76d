import { afterEach, describe, expect, it } from 'vitest';
import { killServes, spawnServe } from '../mcp/cli-process.js';
import { post, raw, upgrade } from './http-harness.js';

afterEach(() => killServes());

describe('session-supervisor serve: Streamable HTTP on the WebSocket port', () => {
  it('prints the http line after the ws line, serves a legacy session at /mcp, and refuses foreign origins on both', async () => {
    const server = spawnServe(['--port', '0', '--log-level', 'warn']);
    const wsLine = await server.line(/^listening ws:/);
    const httpLine = await server.line(/^listening http:/);
    const wsUrl = wsLine.slice('listening '.length);
    const url = httpLine.slice('listening '.length);
    expect(url).toBe(`${wsUrl.replace('ws://', 'http://')}/mcp`);
    const init = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } });
    expect(init.status).toBe(200);
    const sessionId = init.headers['mcp-session-id'] as string;
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    expect((await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
    const call = await post(url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'over http' } } }, headers);
    expect(call.text).toContain('over http');
    expect((await raw(url, { method: 'DELETE', headers })).status).toBe(200);
    expect((await post(url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { ...headers, origin: 'http://evil.example' })).status).toBe(403);
    expect(await upgrade(wsUrl, { headers: { origin: 'http://evil.example' } })).toBe(403);
    expect(await upgrade(wsUrl, { headers: { host: 'evil.example' } })).toBe(403);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lastJson()).toMatchObject({ sessions: 1, requests: 2, completed: 2 });
  });

  it('takes --http-path, --max-sessions and --allowed-origins', async () => {
    const server = spawnServe(['--port', '0', '--log-level', 'warn', '--http-path', '/rpc', '--max-sessions', '0', '--allowed-origins', 'https://app.example']);
    const url = (await server.line(/^listening http:/)).slice('listening '.length);
    expect(url).toMatch(/\/rpc$/);
    const init = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } }, { origin: 'https://app.example' });
    expect(init.status).toBe(503);
    expect(init.headers['retry-after']).toBeDefined();
    const foreign = await post(url, { jsonrpc: '2.0', id: 2, method: 'echo' }, { origin: 'https://other.example' });
    expect(foreign.status).toBe(403);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});
