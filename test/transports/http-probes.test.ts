// /healthz and /readyz on listenHttp's port: readiness follows the supervisor's phases and the
// listener; wrong methods and bad paths get a clear answer.
import { afterEach, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../src/index.js';
import { listenHttp, type HttpListener } from '../../src/transports/http.js';

const listeners: HttpListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
});

async function status(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: await response.text() };
}

describe('listenHttp probes', () => {
  it('answers /healthz 200 always and /readyz 200 until shutdown starts, then 503 while still serving', async () => {
    const supervisor = createSupervisor({ methods: { echo: (p) => p } });
    const listener = await listenHttp(supervisor, { port: 0 });
    listeners.push(listener);
    const origin = `http://127.0.0.1:${listener.port}`;
    expect(await status(`${origin}/readyz`)).toEqual({ status: 200, body: '{"status":"ready"}' });
    expect(await status(`${origin}/healthz`)).toEqual({ status: 200, body: '{"status":"live"}' });
    const stopped = supervisor.shutdown({ delayMs: 60_000, listeners: [listener] });
    expect(supervisor.state).toBe('unready');
    expect(await status(`${origin}/readyz?verbose=1`)).toEqual({ status: 503, body: '{"status":"unready"}' });
    expect(await status(`${origin}/healthz`)).toEqual({ status: 200, body: '{"status":"live"}' });
    expect(supervisor.accepting).toBe(true);
    await supervisor.drain();
    await stopped;
    expect(supervisor.phases().map((p) => p.phase)).toEqual(['running', 'unready', 'draining', 'closing', 'stopped']);
  });

  it('reports unready once the listener stops accepting, answers HEAD without a body and other methods 405', async () => {
    const supervisor = createSupervisor({ methods: {} });
    const listener = await listenHttp(supervisor, { port: 0, healthPath: '/livez', readyPath: '/ready' });
    listeners.push(listener);
    const origin = `http://127.0.0.1:${listener.port}`;
    expect(await status(`${origin}/ready`, 'HEAD')).toEqual({ status: 200, body: '' });
    expect(await status(`${origin}/livez`, 'POST')).toEqual({ status: 405, body: '' });
    expect((await status(`${origin}/readyz`)).status).toBe(404);
    listener.stopAccepting();
    expect((await status(`${origin}/ready`)).status).toBe(503);
  });

  it('turns a probe off with false and refuses a path without a leading slash', async () => {
    const supervisor = createSupervisor({ methods: {} });
    const listener = await listenHttp(supervisor, { port: 0, readyPath: false });
    listeners.push(listener);
    expect((await status(`http://127.0.0.1:${listener.port}/readyz`)).status).toBe(404);
    await expect(listenHttp(supervisor, { port: 0, healthPath: 'healthz' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });
});
