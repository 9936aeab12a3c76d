import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { encodeError, encodeNotification, encodeRequest, encodeResult } from '../../src/jsonrpc/codec.js';
import { createMemoryEventStore } from '../../src/transports/http/event-store.js';
import { classifyOutbound, exchangeOutbound, summarizeInbound } from '../../src/transports/http/frames.js';
import { accepts, acceptsAll, decodeHeaderValue, isJsonContentType } from '../../src/transports/http/headers.js';
import { modernErrorStatus, resolveHttpOptions } from '../../src/transports/http/options.js';
import { isLoopbackHost, resolveHostPolicy } from '../../src/transports/request-guard.js';

describe('the in-memory event store', () => {
  it('replays the events after an id, in order, and only those of its stream', () => {
    const store = createMemoryEventStore();
    const a0 = store.append('a', 'one');
    store.append('b', 'other');
    const a1 = store.append('a', 'two');
    store.append('a', 'three');
    expect(store.replayAfter(a0)).toEqual({ streamKey: 'a', events: [{ id: 'a-1', frame: 'two' }, { id: 'a-2', frame: 'three' }] });
    expect(store.replayAfter(a1)?.events.map((e) => e.frame)).toEqual(['three']);
    expect(store.replayAfter('a-9')).toBeUndefined();
    expect(store.replayAfter('nonsense')).toBeUndefined();
    expect(store.replayAfter('a-01')).toBeUndefined();
    store.drop('a');
    expect(store.replayAfter(a0)).toBeUndefined();
  });

  it('is bounded per stream: an id older than what is kept cannot resume (it would lose events)', () => {
    const store = createMemoryEventStore({ maxEventsPerStream: 2 });
    const ids = ['e0', 'e1', 'e2', 'e3'].map((frame) => store.append('s', frame));
    expect(store.replayAfter(ids[0]!)).toBeUndefined();
    expect(store.replayAfter(ids[1]!)?.events.map((e) => e.frame)).toEqual(['e2', 'e3']);
  });

  it('is bounded in total: the oldest streams are evicted whole', () => {
    const store = createMemoryEventStore({ maxEvents: 3 });
    const old = store.append('old', 'x');
    store.append('old', 'y');
    store.append('mid', 'z');
    const fresh = store.append('new', 'w');
    expect(store.replayAfter(old)).toBeUndefined();
    expect(store.replayAfter(fresh)).toEqual({ streamKey: 'new', events: [] });
    const bytes = createMemoryEventStore({ maxBytes: 10 });
    const first = bytes.append('p', '12345678');
    bytes.append('q', '12345678');
    expect(bytes.replayAfter(first)).toBeUndefined();
  });
});

describe('classifyOutbound', () => {
  it('tells answers, errors, batches and messages apart on the runtime’s own encoding', () => {
    expect(classifyOutbound(encodeResult(7, { a: 1 }))).toEqual({ kind: 'answer', id: 7, errorCode: undefined });
    expect(classifyOutbound(encodeResult('x"y', null))).toEqual({ kind: 'answer', id: 'x"y', errorCode: undefined });
    expect(classifyOutbound(encodeError(3, { code: -32601, message: 'nope' }))).toEqual({ kind: 'answer', id: 3, errorCode: -32601 });
    expect(classifyOutbound(encodeError(null, { code: -32700, message: 'Parse error' }))).toEqual({ kind: 'answer', id: null, errorCode: -32700 });
    expect(classifyOutbound(encodeNotification('notifications/progress', {}))).toEqual({ kind: 'message' });
    expect(classifyOutbound(encodeRequest(4, 'sampling/createMessage', {}))).toEqual({ kind: 'message' });
    expect(classifyOutbound(`[${encodeResult(1, 1)}]`)).toEqual({ kind: 'batch' });
  });

  it('parses frames of another shape', () => {
    expect(classifyOutbound('{"id":5,"jsonrpc":"2.0","result":{"error":{"code":1}}}')).toEqual({ kind: 'answer', id: 5, errorCode: undefined });
    expect(classifyOutbound('{"jsonrpc":"2.0","id":5,"error":{"message":"m","code":-32602}}')).toEqual({ kind: 'answer', id: 5, errorCode: -32602 });
    expect(classifyOutbound('{"method":"x","jsonrpc":"2.0"}')).toEqual({ kind: 'message' });
  });
});

describe('exchangeOutbound', () => {
  it('agrees with classifyOutbound on every frame: the answer or not, and the error code', () => {
    const id = fc.oneof(fc.integer(), fc.string(), fc.constant(null));
    const frame = fc.oneof(
      fc.tuple(fc.oneof(fc.integer(), fc.string()), fc.jsonValue()).map(([i, v]) => encodeResult(i, v)),
      fc.tuple(id, fc.integer({ min: -33000, max: 33000 }), fc.string()).map(([i, code, message]) => encodeError(i, { code, message })),
      fc.tuple(fc.string(), fc.jsonValue()).map(([method, params]) => encodeNotification(method, params)),
      fc.tuple(fc.integer(), fc.string()).map(([i, method]) => encodeRequest(i, method, {})),
      fc.array(fc.integer(), { minLength: 1, maxLength: 3 }).map((ids) => `[${ids.map((i) => encodeResult(i, i)).join(',')}]`),
      fc.jsonValue().map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(frame, (text) => {
        const kind = classifyOutbound(text);
        const outbound = exchangeOutbound(text);
        expect(outbound.answer).toBe(kind.kind !== 'message');
        expect(outbound.errorCode).toBe(kind.kind === 'answer' ? kind.errorCode : undefined);
      }),
    );
  });
});

describe('summarizeInbound', () => {
  it('knows what the runtime will answer', () => {
    expect(summarizeInbound({ jsonrpc: '2.0', id: 0, method: 'm' })).toMatchObject({ requestIds: [0], expectsAnswer: true, method: 'm' });
    expect(summarizeInbound({ jsonrpc: '2.0', method: 'n' })).toMatchObject({ requestIds: [], expectsAnswer: false });
    expect(summarizeInbound({ jsonrpc: '2.0', id: 1, result: {} })).toMatchObject({ expectsAnswer: false });
    expect(summarizeInbound(42)).toMatchObject({ expectsAnswer: true });
    expect(summarizeInbound([{ jsonrpc: '2.0', method: 'n' }])).toMatchObject({ batch: true, expectsAnswer: false });
    expect(summarizeInbound([{ jsonrpc: '2.0', id: 'a', method: 'm' }, 5])).toMatchObject({ batch: true, requestIds: ['a'], expectsAnswer: true });
    expect(summarizeInbound([])).toMatchObject({ batch: true, expectsAnswer: true });
  });
});

describe('header helpers', () => {
  it('decodes the Base64 sentinel and refuses broken Base64', () => {
    expect(decodeHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?=')).toBe('Hello, 世界');
    expect(decodeHeaderValue('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=')).toBe('=?base64?literal?=');
    expect(decodeHeaderValue('us-west1')).toBe('us-west1');
    expect(decodeHeaderValue('=?base64?***?=')).toBeUndefined();
    expect(decodeHeaderValue('=?base64?/w==?=')).toBeUndefined();
  });

  it('reads Accept and Content-Type as HTTP does', () => {
    expect(accepts(undefined, ['application/json'])).toBe(true);
    expect(accepts('text/*, application/json', ['application/json', 'text/event-stream'])).toBe(true);
    expect(accepts('application/json', ['application/json', 'text/event-stream'])).toBe(false);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/jsonp')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
  });

  it('decides a fixed Accept list like accepts, every value again from the cache', () => {
    const types = ['application/json', 'text/event-stream'];
    const post = acceptsAll(types);
    const values = [undefined, '', '*/*', 'text/*, application/json', 'application/json', 'text/event-stream', 'application/json, text/event-stream', 'Application/JSON;q=0.9, TEXT/EVENT-STREAM'];
    for (let round = 0; round < 2; round += 1) {
      for (const value of values) expect(post(value), String(value)).toBe(accepts(value, types));
    }
    expect(post('application/json')).toBe(false);
    expect(post('application/json, text/event-stream')).toBe(true);
  });
});

describe('options and host policy', () => {
  it('maps modern errors to statuses and checks options', () => {
    expect([-32601, -32602, -32020, -32022, -32603, -32000].map(modernErrorStatus)).toEqual([404, 400, 400, 400, 200, 200]);
    expect(() => resolveHttpOptions({ maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
    expect(() => resolveHttpOptions({ path: 'mcp' })).toThrow(/path/);
    expect(resolveHttpOptions({ eventStore: false }).eventStore).toBeUndefined();
  });

  it('knows loopback names and applies the loopback defaults only on a loopback bind', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', 'app.localhost']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'evil.example', 'localhost.evil.example']) expect(isLoopbackHost(host)).toBe(false);
    const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
    const loopback = resolveHostPolicy('127.0.0.1', {});
    expect(loopback.check(req({ host: 'localhost:1' }))).toBeUndefined();
    expect(loopback.check(req({ host: 'evil.example' }))).toBe('host');
    expect(loopback.check(req({ host: 'localhost', origin: 'https://127.0.0.1:8443' }))).toBeUndefined();
    expect(loopback.check(req({ host: 'localhost', origin: 'file://' }))).toBe('origin');
    expect(loopback.check(req({ host: 'localhost', origin: 'http://localhost.evil.example' }))).toBe('origin');
    const wide = resolveHostPolicy('0.0.0.0', {});
    expect(wide.check(req({ host: 'evil.example', origin: 'http://evil.example' }))).toBeUndefined();
    const ported = resolveHostPolicy('0.0.0.0', { allowedHosts: ['mcp.example:8443'] });
    expect(ported.check(req({ host: 'mcp.example:8443' }))).toBeUndefined();
    expect(ported.check(req({ host: 'mcp.example:9000' }))).toBe('host');
  });
});

describe('body readers over real requests', () => {
  const timers = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout) };

  it('settle each body once: a body read whole is not reported again by the close that follows', async () => {
    const { createServer, request } = await import('node:http');
    const { BodyReaders } = await import('../../src/transports/http/body.js');
    const readers = new BodyReaders({ maxBodyBytes: 1024, bodyTimeoutMs: 5_000, timers });
    const outcomes: unknown[] = [];
    const closed: Promise<void>[] = [];
    const server = createServer((req, res) => {
      closed.push(new Promise((resolve) => req.once('close', () => setImmediate(resolve))));
      readers.read(req, (outcome) => {
        outcomes.push(outcome);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const body of ['{"a":1}', '\uFEFF{"b":2}']) {
        await new Promise<void>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { connection: 'close' } }, (res) => {
            res.resume();
            res.once('end', resolve);
          });
          req.once('error', reject);
          req.end(body);
        });
      }
      await Promise.all(closed);
      expect(closed).toHaveLength(2);
      expect(outcomes).toEqual([
        { ok: true, text: '{"a":1}' },
        { ok: true, text: '{"b":2}' },
      ]);
      expect(readers.reading).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
