import type { IncomingHttpHeaders } from 'node:http';
import { SupervisorError } from '../jsonrpc/errors.js';
import { decodeHeaderValue } from '../transports/http/headers.js';

/**
 * One tool parameter mirrored into an HTTP header (2026-07-28 Streamable HTTP, SEP-2243): the
 * property at `path` of the call's `arguments` travels in `Mcp-Param-{header}` too, so load
 * balancers and gateways can route on it without reading the body.
 *
 * @example
 * ```ts
 * const binding: ParamHeaderBinding = { header: 'Region', path: ['region'], type: 'string' };
 * ```
 */
export interface ParamHeaderBinding {
  /** The name part of `Mcp-Param-{header}`, as the schema's `x-mcp-header` gives it. */
  readonly header: string;
  /** The chain of `properties` keys from the schema root to the parameter. */
  readonly path: readonly string[];
  readonly type: 'string' | 'integer' | 'boolean';
}

const ANNOTATION = 'x-mcp-header';
/** RFC 9110 `token` (`1*tchar`). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The `x-mcp-header` annotations of a tool's `inputSchema`, checked against the spec's constraints
 * (a non-empty token, unique ignoring case, on a `string` / `integer` / `boolean` property reached
 * only through `properties` keys). A tool that breaks one is a server author's error: it throws
 * `ERR_INVALID_OPTION` naming the tool and the reason, so the server never lists a tool clients
 * must reject.
 *
 * @example
 * ```ts
 * paramHeaderBindings('execute_sql', { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } } });
 * // [{ header: 'Region', path: ['region'], type: 'string' }]
 * ```
 */
export function paramHeaderBindings(toolName: string, inputSchema: Record<string, unknown>): ParamHeaderBinding[] {
  const bindings: ParamHeaderBinding[] = [];
  const invalid = (why: string): never => {
    throw new SupervisorError('ERR_INVALID_OPTION', `tool ${toolName}: invalid x-mcp-header: ${why}`);
  };
  const visit = (node: unknown, path: string[], reachable: boolean): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, path, false);
      return;
    }
    if (!isRecord(node)) return;
    if (ANNOTATION in node) {
      const header = node[ANNOTATION];
      const where = path.length === 0 ? 'the schema root' : path.join('.');
      if (!reachable || path.length === 0) invalid(`${where} is not reached through properties alone`);
      if (typeof header !== 'string' || !TOKEN.test(header)) invalid(`${where}: ${JSON.stringify(header)} is not an HTTP token`);
      const type = node.type;
      if (typeof type !== 'string' || !PRIMITIVE.has(type)) invalid(`${where} has type ${JSON.stringify(type)}; only string, integer and boolean`);
      const name = header as string;
      if (bindings.some((b) => b.header.toLowerCase() === name.toLowerCase())) invalid(`${name} is used twice (names are case-insensitive)`);
      bindings.push({ header: name, path: [...path], type: type as ParamHeaderBinding['type'] });
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === ANNOTATION) continue;
      if (key === 'properties' && isRecord(value)) {
        for (const [property, schema] of Object.entries(value)) visit(schema, [...path, property], reachable);
      } else if (typeof value === 'object' && value !== null) {
        visit(value, path, false);
      }
    }
  };
  visit(inputSchema, [], true);
  return bindings;
}

/** What an HTTP field value may hold: visible ASCII, space and tab. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

function valueAt(args: unknown, path: readonly string[]): unknown {
  let node = args;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}

function matches(binding: ParamHeaderBinding, text: string, value: unknown): boolean {
  if (binding.type === 'integer') {
    // Compared as numbers: `42.0` and `42` are the same integer.
    return typeof value === 'number' && text.trim() !== '' && Number(text) === value;
  }
  if (binding.type === 'boolean') return text === String(value);
  return text === value;
}

/**
 * Check the `Mcp-Param-*` headers of a `tools/call` against its arguments: every annotated
 * parameter with a value (not `null`) must come with its header, and the header (decoded) must
 * equal the body's value; a header for a parameter the body does not carry is a mismatch too (a
 * gateway would route on a value the server never sees). Returns what is wrong, or `undefined`.
 *
 * @example
 * ```ts
 * checkParamHeaders({ 'mcp-param-region': 'us-west1' }, bindings, { region: 'us-west1' }); // undefined
 * checkParamHeaders({}, bindings, { region: 'us-west1' }); // 'Mcp-Param-Region header is missing …'
 * ```
 */
export function checkParamHeaders(headers: IncomingHttpHeaders, bindings: readonly ParamHeaderBinding[], args: unknown): string | undefined {
  for (const binding of bindings) {
    const name = `Mcp-Param-${binding.header}`;
    const given = headers[name.toLowerCase()];
    const raw = given === undefined ? undefined : (Array.isArray(given) ? given.join(', ') : given).trim();
    const value = valueAt(args, binding.path);
    if (value === undefined || value === null) {
      if (raw !== undefined) return `${name} header is given but the body has no value at ${binding.path.join('.')}`;
      continue;
    }
    if (raw === undefined) return `${name} header is missing; the body has a value at ${binding.path.join('.')}`;
    if (!FIELD_VALUE.test(raw)) return `${name} header value is malformed (characters outside visible ASCII)`;
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return `${name} header value is malformed (not Base64 of UTF-8 text)`;
    if (!matches(binding, decoded, value)) {
      return `${name} header value ${JSON.stringify(decoded)} does not match body value ${JSON.stringify(value)}`;
    }
  }
  return undefined;
}
