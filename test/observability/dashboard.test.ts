import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright, type BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTransportPair, createSupervisor, type RequestContext, type Supervisor } from '../../src/index.js';
import { startDashboard, type Dashboard, type DashboardView } from '../../src/observability/dashboard.js';
import { connectWebSocketClient, createTestGate, type SessionTestClient } from '../../src/testing/index.js';
import { listenWebSocket, type WebSocketListener } from '../../src/transports/ws.js';
import { findChromium } from './chromium.js';

const chromiumPath = findChromium();
if (chromiumPath === undefined) {
  console.warn('dashboard browser test skipped: no `chromium` on PATH (install it with `apt-get install -y chromium`; .ci/run does)');
}

const slowServer = () => {
  const gate = createTestGate();
  const supervisor = createSupervisor({
    limits: { cancelGraceMs: 60_000, drainTimeoutMs: 60_000 },
    methods: {
      'tools/call': async (_p: unknown, ctx: RequestContext) => {
        await gate.hold(ctx);
        return 'ok';
      },
      'resources/read': async (_p: unknown, ctx: RequestContext) => {
        await gate.hold(ctx);
        return 'ok';
      },
    },
  });
  return { gate, supervisor };
};

describe('dashboard (HTTP)', () => {
  let dashboard: Dashboard | undefined;
  let supervisor: Supervisor | undefined;
  afterEach(async () => {
    await dashboard?.close();
    await supervisor?.close();
  });

  it('serves a self-contained page, a JSON view and an event stream; 404 and 405 otherwise', async () => {
    const server = slowServer();
    supervisor = server.supervisor;
    dashboard = await startDashboard(supervisor);
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const page = await fetch(dashboard.url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<script>');
    // No external resource: no http(s) URL, no src/href attribute at all.
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\s(src|href)=/);

    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 7, method: 'tools/call' });
    const view = (await (await fetch(new URL('state', dashboard.url))).json()) as DashboardView;
    expect(view.supervisor.state).toBe('running');
    expect(view.sessions).toEqual([
      expect.objectContaining({ id: 's1', transport: 'memory', state: 'connected', handlers: [{ requestId: 7, method: 'tools/call', state: 'running', reason: null, settled: null }] }),
    ]);

    const events = await fetch(new URL('events', dashboard.url));
    expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = events.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^retry: 1000\nevent: view\ndata: \{.*"requestId":7.*\}\n\n/s);
    await reader.cancel();

    expect((await fetch(new URL('nope', dashboard.url))).status).toBe(404);
    expect((await fetch(dashboard.url, { method: 'POST', body: '' })).status).toBe(405);
    server.gate.releaseAll('result');
  });

  it('keeps a closed session on view with its close reason, and forgets the oldest beyond the limit', async () => {
    const server = slowServer();
    supervisor = server.supervisor;
    dashboard = await startDashboard(supervisor);
    for (let i = 0; i < 25; i++) {
      const { transport, peer } = createMemoryTransportPair();
      supervisor.attach(transport);
      peer.vanish();
    }
    const view = (await (await fetch(new URL('state', dashboard.url))).json()) as DashboardView;
    expect(view.sessions).toHaveLength(20);
    expect(view.sessions[0]).toMatchObject({ id: 's6', state: 'closed', closeReason: 'transport-closed' });
  });

  it('refuses an interval that is not a finite number >= 0', async () => {
    supervisor = createSupervisor({ methods: {} });
    await expect(startDashboard(supervisor, { intervalMs: -1 })).rejects.toThrow(RangeError);
    await expect(startDashboard(supervisor, { intervalMs: Number.NaN })).rejects.toThrow(RangeError);
  });

  it('lists at most 100 sessions, open ones first, and counts the rest', async () => {
    const server = slowServer();
    supervisor = server.supervisor;
    dashboard = await startDashboard(supervisor);
    const gone = createMemoryTransportPair();
    supervisor.attach(gone.transport);
    gone.peer.vanish();
    for (let i = 0; i < 120; i++) supervisor.attach(createMemoryTransportPair().transport);
    const view = (await (await fetch(new URL('state', dashboard.url))).json()) as DashboardView;
    expect(view.sessions).toHaveLength(100);
    expect(view.sessions.every((s) => s.state === 'connected')).toBe(true);
    expect(view.hiddenSessions).toBe(21);
  });
});

describe('dashboard (browser)', () => {
  let browser: BrowserContext | undefined;
  let profile: string | undefined;
  let dashboard: Dashboard | undefined;
  let listener: WebSocketListener | undefined;
  let supervisor: Supervisor | undefined;
  const clients: SessionTestClient[] = [];

  beforeAll(async () => {
    if (chromiumPath === undefined) return;
    profile = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
    // A fresh profile directory (Chromium's --user-data-dir) for every run.
    browser = await playwright.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1100, height: 420 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    for (const client of clients) await client.dispose?.();
    await dashboard?.close();
    await listener?.close();
    await supervisor?.close();
    await browser?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  it.skipIf(chromiumPath === undefined)(
    'shows sessions and their handler actors changing state live over real WebSockets, and takes a screenshot',
    async () => {
      const server = slowServer();
      supervisor = server.supervisor;
      listener = await listenWebSocket(supervisor, { host: '127.0.0.1', port: 0 });
      dashboard = await startDashboard(supervisor);
      const page = await browser!.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await page.goto(dashboard.url);
      await page.locator('#sup', { hasText: 'running' }).waitFor();

      const a = await connectWebSocketClient(listener.url);
      clients.push(a);
      await page.locator('[data-session="s1"][data-state="connected"]').waitFor();

      a.send({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
      a.send({ jsonrpc: '2.0', id: 2, method: 'resources/read' });
      const h1 = page.locator('[data-session="s1"] [data-request="1"]');
      await page.locator('[data-session="s1"] [data-request="1"][data-state="running"]').waitFor();
      expect(await h1.textContent()).toContain('tools/call');

      // The peer cancels request 1: the handler goes to cancelling (its work has not stopped yet) …
      a.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } });
      await page.locator('[data-session="s1"] [data-request="1"][data-state="cancelling"]').waitFor();
      expect(await h1.textContent()).toContain('client');
      // … then to done once it settles.
      server.gate.release('s1', 1, 'result');
      await page.locator('[data-session="s1"] [data-request="1"][data-state="done"]').waitFor();
      expect(await h1.textContent()).toContain('cancelled · client');

      // A second session draining with one request still running, a third one closed.
      const b = await connectWebSocketClient(listener.url);
      clients.push(b);
      b.send({ jsonrpc: '2.0', id: 'b-1', method: 'tools/call' });
      await page.locator('[data-session="s2"] [data-request="b-1"][data-state="running"]').waitFor();
      supervisor.sessions().find((s) => s.id === 's2')!.drain();
      await page.locator('[data-session="s2"][data-state="draining"]').waitFor();
      const c = await connectWebSocketClient(listener.url);
      clients.push(c);
      await page.locator('[data-session="s3"]').waitFor();
      c.vanish();
      await page.locator('[data-session="s3"][data-state="closed"]').waitFor();
      // One more cancel whose handler has not settled yet: it stays in cancelling.
      a.send({ jsonrpc: '2.0', id: 3, method: 'tools/call' });
      a.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 3 } });
      await page.locator('[data-session="s1"] [data-request="3"][data-state="cancelling"]').waitFor();
      await page.locator('[data-stat="cancelled"] b', { hasText: '2' }).waitFor();
      await page.locator('[data-stat="cancelling"] b', { hasText: '1' }).waitFor();

      mkdirSync('.tmp', { recursive: true });
      const file = join('.tmp', 'dashboard.png');
      await page.screenshot({ path: file });
      const png = readFileSync(file);
      expect(png.length).toBeGreaterThan(1000);
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      // Ids and method names come from clients: the page shows them as text, never as markup.
      const hostile = '<img src=x onerror="window.__injected=1">';
      a.send({ jsonrpc: '2.0', id: hostile, method: 'resources/read' });
      await page.locator('[data-session="s1"] .handler', { hasText: hostile }).waitFor();
      expect(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
      expect(await page.locator('[data-session="s1"] img').count()).toBe(0);
      server.gate.release('s1', hostile, 'result');
      await page.locator('[data-session="s1"] .handler[data-state="done"]', { hasText: hostile }).waitFor();

      expect(consoleErrors).toEqual([]);
      server.gate.releaseAll('result');
      await page.close();
    },
  );
});
