import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryTransportPair, createSupervisor } from '../../src/index.js';
import { createCliInspector } from '../../src/observability/inspect.js';
import { killServes, spawnServe } from '../mcp/cli-process.js';
import { findChromium } from './chromium.js';

const chromiumPath = findChromium();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  killServes();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('--inspect without the network', () => {
  it('serve --inspect --inspect-port: the page is on the port asked for and says what to do when stately.ai is out of reach', async () => {
    const server = spawnServe(['--port', '0', '--quiet', '--inspect', '--inspect-port', '0', '--dashboard-port', '0']);
    const announced = await server.line(/^inspect: open http:\/\//);
    const page = /open (http:\/\/\S+)/.exec(announced)![1]!;
    // Port 0 was asked for: a free port, not the default 8080.
    expect(new URL(page).port).not.toBe('8080');
    const dashboard = (await server.line(/^dashboard http:\/\//)).slice('dashboard '.length);
    const html = await (await fetch(page)).text();
    expect(html).toContain('could not be reached');
    expect(html).toContain(`The local dashboard needs no network: open ${dashboard} (--dashboard-port).`);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.lastJson()).toMatchObject({ sessions: 0 });
  });

  it('without --dashboard-port the page points to it', async () => {
    const inspector = createCliInspector({ port: 0, announce: false, offlineHint: 'Run serve with --dashboard-port N.' });
    cleanups.push(() => inspector.stop());
    const { page } = await inspector.ready;
    const html = await (await fetch(page!)).text();
    expect(html).toContain('<span id="hint">Run serve with --dashboard-port N.</span>');
  });

  it.skipIf(chromiumPath === undefined)('in a browser with stately.ai unreachable: the banner shows and counts the events that arrive', async () => {
    const inspector = createCliInspector({ port: 0, announce: false, offlineAfterMs: 200, offlineHint: 'Use --dashboard-port.' });
    cleanups.push(() => inspector.stop());
    const { page: pageUrl } = await inspector.ready;
    const profile = mkdtempSync(join(tmpdir(), 'inspect-offline-chromium-'));
    cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
    const browser = await playwright.launchPersistentContext(profile, {
      executablePath: chromiumPath!,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    cleanups.push(() => browser.close());
    // Nothing leaves the machine: every request but the relay's own is refused, as when offline.
    await browser.route(
      (url) => url.hostname !== '127.0.0.1',
      (route) => route.abort('internetdisconnected'),
    );
    const page = await browser.newPage();
    await page.goto(pageUrl!);
    const banner = page.locator('#offline.shown');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('could not be reached');
    expect(await banner.textContent()).toContain('Use --dashboard-port.');

    const supervisor = createSupervisor({ methods: { ping: () => 'pong' }, inspect: inspector });
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await supervisor.close();
    await page.waitForFunction(() => Number(document.getElementById('count')?.textContent) > 0);
  });
});
