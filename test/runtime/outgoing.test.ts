import { describe, expect, it } from 'vitest';
import { JsonRpcError, SupervisorError } from '../../src/jsonrpc/errors.js';
import { createTestClock } from '../../src/runtime/clock.js';
import { OutgoingRequests } from '../../src/runtime/outgoing.js';

describe('OutgoingRequests', () => {
  it('numbers requests from 1, resolves and rejects each by its id, and ignores ids it did not send', async () => {
    const clock = createTestClock();
    const outgoing = new OutgoingRequests(clock);
    const frames: string[] = [];
    const first = outgoing.send('s1', 'ping', undefined, 1_000, (frame) => frames.push(frame) > 0);
    const second = outgoing.send('s1', 'sampling', { n: 1 }, 1_000, (frame) => frames.push(frame) > 0);
    expect(frames.map((f) => JSON.parse(f) as unknown)).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'sampling', params: { n: 1 } },
    ]);
    expect(outgoing.onResponse({ jsonrpc: '2.0', id: '1', result: {} })).toBe(false);
    expect(outgoing.onResponse({ jsonrpc: '2.0', id: 3, result: {} })).toBe(false);
    expect(outgoing.onResponse({ jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'Method not found' } })).toBe(true);
    expect(outgoing.onResponse({ jsonrpc: '2.0', id: 1, result: { ok: true } })).toBe(true);
    expect(outgoing.onResponse({ jsonrpc: '2.0', id: 1, result: { again: true } })).toBe(false);
    await expect(first).resolves.toEqual({ ok: true });
    await expect(second).rejects.toEqual(new JsonRpcError(-32601, 'Method not found'));
    expect(clock.pending).toBe(0);
  });

  it('rejects on timeout, when the write is refused, and all at once on close, leaving no timer', async () => {
    const clock = createTestClock();
    const outgoing = new OutgoingRequests(clock);
    const timedOut = outgoing.send('s1', 'ping', undefined, 50, () => true);
    const refused = outgoing.send('s1', 'ping', undefined, 50, () => false);
    const open = outgoing.send('s1', 'ping', undefined, 5_000, () => true);
    clock.advance(50);
    await expect(timedOut).rejects.toMatchObject({ code: 'ERR_REQUEST_TIMEOUT' });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    outgoing.rejectAll('s1');
    await expect(open).rejects.toBeInstanceOf(SupervisorError);
    await expect(open).rejects.toMatchObject({ code: 'ERR_SESSION_CLOSED', message: 'session s1 closed' });
    expect(clock.pending).toBe(0);
  });
});
