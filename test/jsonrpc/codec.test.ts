import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  decodeFrame,
  decodeValue,
  encodeError,
  encodeNotification,
  encodeRequest,
  encodeResult,
  summarizeIssues,
} from '../../src/jsonrpc/codec.js';
import { ErrorCode } from '../../src/jsonrpc/errors.js';

const invalidRequest = (data: string) => ({
  kind: 'invalid',
  error: { code: ErrorCode.InvalidRequest, message: 'Invalid Request', data },
});

describe('decodeFrame: parse errors', () => {
  it.each(['{oops', '', '   ', '{"jsonrpc":"2.0",', 'undefined', "{'a':1}", '[1,2', 'NaN'])(
    'answers %j with -32700 Parse error and no data',
    (frame) => {
      expect(decodeFrame(frame)).toEqual({ kind: 'invalid', error: { code: -32700, message: 'Parse error' } });
    },
  );

  it('encodes a parse error with id null', () => {
    const decoded = decodeFrame('{oops');
    if (decoded.kind !== 'invalid') throw new Error('expected invalid');
    expect(JSON.parse(encodeError(null, decoded.error))).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error' },
    });
  });
});

describe('decodeFrame: invalid requests (-32600)', () => {
  it.each([['1'], ['"text"'], ['null'], ['true'], ['false'], ['0']])('refuses the non-object %s', (frame) => {
    expect(decodeFrame(frame)).toEqual(invalidRequest('A message must be a JSON object'));
  });

  it('refuses a batch when batches are off (the default)', () => {
    expect(decodeFrame('[{"jsonrpc":"2.0","id":1,"method":"a"}]')).toEqual(invalidRequest('Batches are not supported'));
    expect(decodeFrame('[{"jsonrpc":"2.0","id":1,"method":"a"}]', { batches: false })).toEqual(
      invalidRequest('Batches are not supported'),
    );
  });

  it('refuses an empty batch even when batches are on', () => {
    expect(decodeFrame('[]', { batches: true })).toEqual(invalidRequest('Empty batch'));
    expect(decodeFrame('[]')).toEqual(invalidRequest('Empty batch'));
  });

  it('returns the items of a non-empty batch when batches are on', () => {
    expect(decodeFrame('[1,{"a":2}]', { batches: true })).toEqual({ kind: 'batch', items: [1, { a: 2 }] });
  });

  it('refuses an object that is neither request, notification nor response', () => {
    expect(decodeFrame('{}')).toEqual(invalidRequest('Not a JSON-RPC 2.0 message'));
    expect(decodeFrame('{"jsonrpc":"2.0","id":1}')).toEqual(invalidRequest('Not a JSON-RPC 2.0 message'));
  });

  it.each([
    ['a wrong jsonrpc version', { jsonrpc: '1.0', id: 1, method: 'm' }, 'jsonrpc'],
    ['a missing jsonrpc member', { id: 1, method: 'm' }, 'jsonrpc'],
    ['a numeric method', { jsonrpc: '2.0', id: 1, method: 5 }, 'method'],
    ['a null id', { jsonrpc: '2.0', id: null, method: 'm' }, 'id'],
    ['an object id', { jsonrpc: '2.0', id: {}, method: 'm' }, 'id'],
    ['a boolean id', { jsonrpc: '2.0', id: true, method: 'm' }, 'id'],
    ['string params', { jsonrpc: '2.0', id: 1, method: 'm', params: 'x' }, 'params'],
    ['numeric params', { jsonrpc: '2.0', id: 1, method: 'm', params: 3 }, 'params'],
  ])('refuses a request with %s and names the member', (_name, message, member) => {
    const decoded = decodeFrame(JSON.stringify(message));
    expect(decoded.kind).toBe('invalid');
    if (decoded.kind !== 'invalid') return;
    expect(decoded.error.code).toBe(-32600);
    expect(decoded.error.message).toBe('Invalid Request');
    expect(String(decoded.error.data)).toMatch(new RegExp(`^${member}: `));
  });

  it.each([
    ['a wrong version', { jsonrpc: '2', method: 'm' }, 'jsonrpc'],
    ['a numeric method', { jsonrpc: '2.0', method: 1 }, 'method'],
    ['null params', { jsonrpc: '2.0', method: 'm', params: null }, 'params'],
  ])('refuses a notification with %s', (_name, message, member) => {
    const decoded = decodeFrame(JSON.stringify(message));
    expect(decoded.kind).toBe('invalid');
    if (decoded.kind !== 'invalid') return;
    expect(decoded.error.code).toBe(-32600);
    expect(String(decoded.error.data)).toMatch(new RegExp(`^${member}: `));
  });

  it.each([
    ['a result response without id', { jsonrpc: '2.0', result: 1 }, 'id'],
    ['a result response with a null id', { jsonrpc: '2.0', id: null, result: 1 }, 'id'],
    ['an error response with a string code', { jsonrpc: '2.0', id: 1, error: { code: 'x', message: 'm' } }, 'error.code'],
    ['an error response with a fractional code', { jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'm' } }, 'error.code'],
    ['an error response without a message', { jsonrpc: '2.0', id: 1, error: { code: 1 } }, 'error.message'],
    ['an error response with a non-object error', { jsonrpc: '2.0', id: 1, error: 'boom' }, 'error'],
  ])('refuses %s', (_name, message, member) => {
    const decoded = decodeFrame(JSON.stringify(message));
    expect(decoded.kind).toBe('invalid');
    if (decoded.kind !== 'invalid') return;
    expect(decoded.error.code).toBe(-32600);
    expect(String(decoded.error.data)).toMatch(new RegExp(`^${member.replace('.', '\\.')}: `));
  });
});

describe('decodeFrame: valid messages', () => {
  it('reads a request with object params, array params or none', () => {
    expect(decodeFrame('{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}}')).toEqual({
      kind: 'request',
      message: { jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } },
    });
    expect(decodeFrame('{"jsonrpc":"2.0","id":"x","method":"echo","params":[1,2]}')).toEqual({
      kind: 'request',
      message: { jsonrpc: '2.0', id: 'x', method: 'echo', params: [1, 2] },
    });
    expect(decodeFrame('{"jsonrpc":"2.0","id":2,"method":"ping"}')).toEqual({
      kind: 'request',
      message: { jsonrpc: '2.0', id: 2, method: 'ping' },
    });
  });

  it('reads id 0 and the empty string as ids', () => {
    const zero = decodeFrame('{"jsonrpc":"2.0","id":0,"method":"m"}');
    expect(zero).toEqual({ kind: 'request', message: { jsonrpc: '2.0', id: 0, method: 'm' } });
    const empty = decodeFrame('{"jsonrpc":"2.0","id":"","method":"m"}');
    expect(empty).toEqual({ kind: 'request', message: { jsonrpc: '2.0', id: '', method: 'm' } });
  });

  it('reads a message without id as a notification', () => {
    expect(decodeFrame('{"jsonrpc":"2.0","method":"notifications/initialized"}')).toEqual({
      kind: 'notification',
      message: { jsonrpc: '2.0', method: 'notifications/initialized' },
    });
    expect(decodeValue({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 3 } })).toEqual({
      kind: 'notification',
      message: { jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 3 } },
    });
  });

  it('reads result and error responses, an error response with id null included', () => {
    expect(decodeFrame('{"jsonrpc":"2.0","id":1,"result":null}')).toEqual({
      kind: 'response',
      message: { jsonrpc: '2.0', id: 1, result: null },
    });
    expect(decodeFrame('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}')).toEqual({
      kind: 'response',
      message: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
    });
    expect(decodeFrame('{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"m","data":[1]}}')).toEqual({
      kind: 'response',
      message: { jsonrpc: '2.0', id: 'a', error: { code: 1, message: 'm', data: [1] } },
    });
  });

  it('drops a __proto__ member of params instead of turning it into a prototype', () => {
    const decoded = decodeFrame('{"jsonrpc":"2.0","id":1,"method":"m","params":{"__proto__":{"isAdmin":true},"a":1}}');
    if (decoded.kind !== 'request') throw new Error('expected a request');
    const params = decoded.message.params as Record<string, unknown>;
    expect(params['isAdmin']).toBeUndefined();
    expect(Object.keys(params)).toEqual(['a']);
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });
});

describe('decodeFrame never throws', () => {
  fcTest.prop([fc.string()], { numRuns: 300 })('on any string', (frame) => {
    const decoded = decodeFrame(frame);
    expect(['request', 'notification', 'response', 'invalid']).toContain(decoded.kind);
  });

  fcTest.prop([fc.jsonValue()], { numRuns: 300 })('on any JSON value, batches on or off', (value) => {
    const text = JSON.stringify(value);
    const off = decodeFrame(text);
    const on = decodeFrame(text, { batches: true });
    if (Array.isArray(value)) expect(off.kind).toBe('invalid');
    if (Array.isArray(value) && value.length > 0) expect(on.kind).toBe('batch');
    if (!Array.isArray(value)) expect(on).toEqual(off);
  });
});

describe('encoders round-trip through the decoder', () => {
  it('encodeResult writes the id and result; undefined becomes null', () => {
    expect(encodeResult(1, { ok: true })).toBe('{"jsonrpc":"2.0","id":1,"result":{"ok":true}}');
    expect(encodeResult(0, undefined)).toBe('{"jsonrpc":"2.0","id":0,"result":null}');
    expect(encodeResult('a"b', 'x')).toBe('{"jsonrpc":"2.0","id":"a\\"b","result":"x"}');
    expect(decodeFrame(encodeResult('id', [1, 'two']))).toEqual({
      kind: 'response',
      message: { jsonrpc: '2.0', id: 'id', result: [1, 'two'] },
    });
  });

  it('encodeResult writes null for a result JSON cannot represent (a function)', () => {
    expect(JSON.parse(encodeResult(1, () => 1))).toEqual({ jsonrpc: '2.0', id: 1, result: null });
  });

  it('encodeResult throws on a BigInt, which the runtime turns into -32603', () => {
    expect(() => encodeResult(1, { n: 10n })).toThrow(TypeError);
  });

  it('encodeError keeps code, message and data', () => {
    const frame = encodeError(7, { code: -32602, message: 'Invalid params', data: 'a: required' });
    expect(decodeFrame(frame)).toEqual({
      kind: 'response',
      message: { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Invalid params', data: 'a: required' } },
    });
    expect(JSON.parse(encodeError(null, { code: -32600, message: 'Invalid Request' }))).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Invalid Request' },
    });
  });

  it('encodeNotification omits params when there are none', () => {
    expect(encodeNotification('log')).toBe('{"jsonrpc":"2.0","method":"log"}');
    expect(decodeFrame(encodeNotification('progress', { progress: 1 }))).toEqual({
      kind: 'notification',
      message: { jsonrpc: '2.0', method: 'progress', params: { progress: 1 } },
    });
  });

  it('encodeRequest omits params when there are none', () => {
    expect(encodeRequest(1, 'ping')).toBe('{"jsonrpc":"2.0","id":1,"method":"ping"}');
    expect(decodeFrame(encodeRequest('r', 'sum', [1, 2]))).toEqual({
      kind: 'request',
      message: { jsonrpc: '2.0', id: 'r', method: 'sum', params: [1, 2] },
    });
  });

  fcTest.prop([fc.oneof(fc.string(), fc.integer()), fc.string(), fc.dictionary(fc.string().filter((key) => key !== '__proto__'), fc.jsonValue())], {
    numRuns: 200,
  })('a request of any id, method and params decodes to itself', (id, method, params) => {
    const decoded = decodeFrame(encodeRequest(id, method, params));
    expect(decoded).toEqual({ kind: 'request', message: JSON.parse(JSON.stringify({ jsonrpc: '2.0', id, method, params })) });
  });
});

describe('summarizeIssues', () => {
  it('prefixes each issue with its path and joins with "; "', () => {
    const result = z.object({ a: z.string(), b: z.number() }).safeParse({ a: 1, b: 'x' });
    if (result.success) throw new Error('expected failure');
    const summary = summarizeIssues(result.error);
    expect(summary.split('; ')).toHaveLength(2);
    expect(summary).toMatch(/^a: .*; b: /);
  });

  it('omits the path for a root issue', () => {
    const result = z.string().safeParse(1);
    if (result.success) throw new Error('expected failure');
    expect(summarizeIssues(result.error)).toBe(result.error.issues[0]!.message);
  });

  it('joins nested paths with dots', () => {
    const result = z.object({ a: z.object({ b: z.array(z.string()) }) }).safeParse({ a: { b: [1] } });
    if (result.success) throw new Error('expected failure');
    expect(summarizeIssues(result.error)).toMatch(/^a\.b\.0: /);
  });

  it('keeps at most three issues and counts the rest', () => {
    const schema = z.object({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string() });
    const result = schema.safeParse({});
    if (result.success) throw new Error('expected failure');
    const summary = summarizeIssues(result.error);
    expect(summary).toMatch(/^a: .*; b: .*; c: .*; and 2 more$/);
    expect(summary).not.toContain('\n');
  });
});
