import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SupervisorError } from '../../src/index.js';
import { createMcpServer, defineTool } from '../../src/mcp/index.js';
import { checkParamHeaders, paramHeaderBindings } from '../../src/mcp/param-headers.js';
import { decodeHeaderValue } from '../../src/transports/http/headers.js';
import { listenHttp } from '../../src/transports/http.js';
import { closeAfterEach } from '../helpers/close-after-each.js';
import { post } from '../transports/http-harness.js';

const b64 = (text: string): string => `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;

describe('x-mcp-header annotations', () => {
  it('finds the annotated properties reached through properties alone, nested ones included', () => {
    const schema = {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        target: { type: 'object', properties: { shard: { type: 'integer', 'x-mcp-header': 'Shard' } } },
        dryRun: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
        query: { type: 'string' },
      },
    };
    expect(paramHeaderBindings('t', schema)).toEqual([
      { header: 'Region', path: ['region'], type: 'string' },
      { header: 'Shard', path: ['target', 'shard'], type: 'integer' },
      { header: 'Dry-Run', path: ['dryRun'], type: 'boolean' },
    ]);
  });

  it.each([
    ['an empty name', { properties: { a: { type: 'string', 'x-mcp-header': '' } } }, /not an HTTP token/],
    ['a name that is not a token', { properties: { a: { type: 'string', 'x-mcp-header': 'Re gion' } } }, /not an HTTP token/],
    ['a CR in the name', { properties: { a: { type: 'string', 'x-mcp-header': 'A\r' } } }, /not an HTTP token/],
    ['a number parameter', { properties: { a: { type: 'number', 'x-mcp-header': 'A' } } }, /only string, integer and boolean/],
    ['an object parameter', { properties: { a: { type: 'object', 'x-mcp-header': 'A' } } }, /only string, integer and boolean/],
    ['names equal ignoring case', { properties: { a: { type: 'string', 'x-mcp-header': 'Id' }, b: { type: 'string', 'x-mcp-header': 'ID' } } }, /used twice/],
    ['an annotation under items', { properties: { a: { type: 'array', items: { type: 'string', 'x-mcp-header': 'A' } } } }, /not reached through properties alone/],
    ['an annotation under anyOf', { properties: { a: { anyOf: [{ type: 'string', 'x-mcp-header': 'A' }] } } }, /not reached through properties alone/],
    ['an annotation on the root', { type: 'string', 'x-mcp-header': 'A' }, /schema root/],
  ])('refuses %s with ERR_INVALID_OPTION naming the tool', (_what, schema, reason) => {
    let error: unknown;
    try {
      paramHeaderBindings('bad_tool', schema);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SupervisorError);
    expect((error as SupervisorError).code).toBe('ERR_INVALID_OPTION');
    expect((error as Error).message).toMatch(/^tool bad_tool: invalid x-mcp-header: /);
    expect((error as Error).message).toMatch(reason);
  });

  it('a server with such a tool does not start', () => {
    const bad = defineTool({ name: 'bad', input: z.object({ n: z.number().meta({ 'x-mcp-header': 'N' }) }), run: () => 'x' });
    expect(() => createMcpServer({ name: 's', version: '1', tools: [bad] })).toThrow(/tool bad: invalid x-mcp-header/);
  });
});

describe('header values', () => {
  it('decodes the spec examples and takes anything without the whole sentinel literally', () => {
    expect(decodeHeaderValue('us-west1')).toBe('us-west1');
    expect(decodeHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?=')).toBe('Hello, 世界');
    expect(decodeHeaderValue('=?base64?IHBhZGRlZCA=?=')).toBe(' padded ');
    expect(decodeHeaderValue('=?base64?bGluZTEKbGluZTI=?=')).toBe('line1\nline2');
    expect(decodeHeaderValue('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=')).toBe('=?base64?literal?=');
    expect(decodeHeaderValue('=?base64?SGVsbG8=')).toBe('=?base64?SGVsbG8=');
    expect(decodeHeaderValue('SGVsbG8=')).toBe('SGVsbG8=');
  });

  it('refuses bad padding, characters outside the alphabet, invalid UTF-8 and non-ASCII values', () => {
    expect(decodeHeaderValue('=?base64?SGVsbG8?=')).toBeUndefined();
    expect(decodeHeaderValue('=?base64?SGVs!!!bG8=?=')).toBeUndefined();
    expect(decodeHeaderValue(`=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`)).toBeUndefined();
    const bindings = paramHeaderBindings('t', { properties: { city: { type: 'string', 'x-mcp-header': 'City' } } });
    expect(checkParamHeaders({ 'mcp-param-city': 'caf\u00e9' }, bindings, { city: 'café' })).toMatch(/malformed \(characters outside visible ASCII\)/);
    expect(checkParamHeaders({ 'mcp-param-city': '=?base64?Y2Fm?=' }, bindings, { city: 'caf' })).toBeUndefined();
    expect(checkParamHeaders({ 'mcp-param-city': '=?base64?Y2F?=' }, bindings, { city: 'caf' })).toMatch(/malformed \(not Base64 of UTF-8 text\)/);
  });

  it('checks each annotated argument: present, decoded, equal (integers as numbers)', () => {
    const bindings = paramHeaderBindings('t', {
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        shard: { type: 'integer', 'x-mcp-header': 'Shard' },
        dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
      },
    });
    const args = { region: 'Hello, 世界', shard: 42, dry: false };
    const good = { 'mcp-param-region': b64('Hello, 世界'), 'mcp-param-shard': '42.0', 'mcp-param-dry': 'false' };
    expect(checkParamHeaders(good, bindings, args)).toBeUndefined();
    expect(checkParamHeaders({ ...good, 'mcp-param-shard': '43' }, bindings, args)).toMatch(/Mcp-Param-Shard header value "43" does not match body value 42/);
    expect(checkParamHeaders({ ...good, 'mcp-param-dry': 'False' }, bindings, args)).toMatch(/Mcp-Param-Dry/);
    expect(checkParamHeaders({ 'mcp-param-shard': '42', 'mcp-param-dry': 'false' }, bindings, args)).toMatch(/Mcp-Param-Region header is missing/);
    // null or absent in the body: no header expected, and one that comes anyway does not match.
    expect(checkParamHeaders({}, bindings, { region: null })).toBeUndefined();
    expect(checkParamHeaders({ 'mcp-param-region': 'x' }, bindings, {})).toMatch(/given but the body has no value/);
  });
});

const closeLater = closeAfterEach();

describe('Mcp-Param-* over Streamable HTTP', () => {
  const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
  const call = (region: unknown) => ({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'route', arguments: { region, query: 'q' }, _meta: META } });
  const headers = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'route' };

  it('admits a matching header and answers 400 with -32020 for a missing, wrong or malformed one', async () => {
    const route = defineTool({
      name: 'route',
      input: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }), query: z.string() }),
      run: ({ region }) => `ran in ${region}`,
    });
    const server = closeLater(createMcpServer({ name: 'headers', version: '1.0.0', tools: [route] }));
    const listener = closeLater(await listenHttp(server, { host: '127.0.0.1', port: 0 }));

    const ok = await post(listener.url, call('Hello, 世界'), { ...headers, 'Mcp-Param-Region': b64('Hello, 世界') });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'ran in Hello, 世界' }] } });

    for (const [extra, reason] of [
      [{}, /Mcp-Param-Region header is missing/],
      [{ 'Mcp-Param-Region': 'eu-west1' }, /does not match body value "us-east1"/],
      [{ 'Mcp-Param-Region': '=?base64?dXMtZWFzdDE?=' }, /malformed \(not Base64 of UTF-8 text\)/],
    ] as const) {
      const refused = await post(listener.url, call('us-east1'), { ...headers, ...extra });
      expect(refused.status).toBe(400);
      const body = refused.json() as { id: unknown; error: { code: number; message: string } };
      expect(body.id).toBe(7);
      expect(body.error.code).toBe(-32020);
      expect(body.error.message).toMatch(reason);
    }
    expect(server.stats().requests).toBe(1);
  });
});
