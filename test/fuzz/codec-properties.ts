// Properties of the JSON-RPC codec: whatever text arrives, decodeFrame never throws, and what it returns
// is either a message that matches the JSON-RPC 2.0 schema or an error object that can be sent back.
// Shared by the vitest suite (bounded, seeded) and the long runner (test/fuzz/run.ts).
import fc from 'fast-check';
import {
  decodeFrame,
  decodeValue,
  encodeError,
  encodeNotification,
  encodeRequest,
  encodeResult,
  ErrorCode,
  JsonRpcErrorResponseSchema,
  JsonRpcNotificationSchema,
  JsonRpcRequestSchema,
  JsonRpcResultResponseSchema,
  type Decoded,
} from '../../src/jsonrpc/index.js';
import type { PropertyDefinition } from './property.js';

type Kind = Decoded['kind'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string | number => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const validParams = (r: Record<string, unknown>): boolean =>
  r['params'] === undefined || isObject(r['params']) || Array.isArray(r['params']);

/**
 * The specification of decodeValue, written independently of the zod schemas: which kind a parsed JSON
 * value must decode to.
 */
export function expectedKind(value: unknown, batches: boolean): Kind {
  if (Array.isArray(value)) return batches && value.length > 0 ? 'batch' : 'invalid';
  if (!isObject(value)) return 'invalid';
  const twoPointO = value['jsonrpc'] === '2.0';
  if ('method' in value) {
    const ok = twoPointO && typeof value['method'] === 'string' && validParams(value);
    if ('id' in value) return ok && isId(value['id']) ? 'request' : 'invalid';
    return ok ? 'notification' : 'invalid';
  }
  if ('result' in value) return twoPointO && isId(value['id']) ? 'response' : 'invalid';
  if ('error' in value) {
    const error = value['error'];
    const okError =
      isObject(error) && Number.isSafeInteger(error['code']) && typeof error['message'] === 'string';
    return twoPointO && (isId(value['id']) || value['id'] === null) && okError ? 'response' : 'invalid';
  }
  return 'invalid';
}

/** Throws unless `decoded` is a well-formed outcome: a schema-valid message, a batch, or a sendable error. */
export function checkDecoded(decoded: Decoded, batches: boolean): void {
  switch (decoded.kind) {
    case 'request':
      JsonRpcRequestSchema.parse(decoded.message);
      break;
    case 'notification':
      JsonRpcNotificationSchema.parse(decoded.message);
      if ('id' in decoded.message) throw new Error('a notification carries an id');
      break;
    case 'response':
      if ('result' in decoded.message) JsonRpcResultResponseSchema.parse(decoded.message);
      else JsonRpcErrorResponseSchema.parse(decoded.message);
      break;
    case 'batch':
      if (!batches) throw new Error('a batch was accepted with batches off');
      if (!Array.isArray(decoded.items) || decoded.items.length === 0) throw new Error('empty batch accepted');
      break;
    case 'invalid': {
      const { error } = decoded;
      if (error.code !== ErrorCode.ParseError && error.code !== ErrorCode.InvalidRequest) {
        throw new Error(`unexpected error code ${error.code}`);
      }
      if (typeof error.message !== 'string' || error.message === '') throw new Error('error without a message');
      if (error.data !== undefined && typeof error.data !== 'string') throw new Error('error data is not a string');
      // The answer must be a valid JSON-RPC error response, and one line (a stdio frame).
      const wire = encodeError(null, error);
      if (wire.includes('\n')) throw new Error('encoded error spans lines');
      JsonRpcErrorResponseSchema.parse(JSON.parse(wire));
      break;
    }
    default:
      throw new Error(`unknown kind ${(decoded as { kind: string }).kind}`);
  }
}

/** Decode `frame` and check the outcome against the specification. */
export function checkFrame(frame: string, batches = false): void {
  const decoded = decodeFrame(frame, { batches });
  checkDecoded(decoded, batches);
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    if (decoded.kind !== 'invalid' || decoded.error.code !== ErrorCode.ParseError) {
      throw new Error(`unparseable text decoded as ${decoded.kind}`);
    }
    return;
  }
  const expected = expectedKind(value, batches);
  if (decoded.kind !== expected) throw new Error(`expected ${expected}, decoded ${decoded.kind}`);
  if (decoded.kind === 'invalid' && decoded.error.code !== ErrorCode.InvalidRequest) {
    throw new Error('parseable JSON answered with a parse error');
  }
  if (decoded.kind === 'request' || decoded.kind === 'notification') {
    const source = value as Record<string, unknown>;
    if (decoded.message.method !== source['method']) throw new Error('method changed in decoding');
    if (decoded.kind === 'request' && !Object.is(decoded.message.id, source['id'])) throw new Error('id changed in decoding');
  }
}

// ---- arbitraries ----------------------------------------------------------------------------------

/** A value that is written into JSON text as it is (numbers JSON.stringify cannot produce). */
class Raw {
  constructor(readonly text: string) {}
}

const hugeNumber = fc.constantFrom(
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('123456789012345678901234567890'),
  new Raw('9007199254740993'),
  new Raw('-0'),
  new Raw('0.0000000000000000000000001'),
  new Raw('1E+2'),
);

const loneSurrogate = fc.constantFrom('\ud800', '\udfff', 'a\ud83d', '\ude00b', '\ud83d\ude00');

const weirdString = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), loneSurrogate, fc.constant(''));

/** Every JSON type, and the odd ones. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hugeNumber,
  weirdString,
  fc.constantFrom(null, true, false, 0, -1, 1.5, [], {}),
);

const idValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  weirdString,
  hugeNumber,
  fc.constantFrom(null, true, false, 0, [], {}, [1], { id: 1 }),
);

const methodValue = fc.oneof(
  fc.constantFrom('echo', 'ping', '$/cancelRequest', 'notifications/cancelled', 'tools/call', 'rpc.x'),
  weirdString,
  anyJson,
);

const paramsValue = fc.oneof(
  fc.dictionary(weirdString, anyJson, { maxKeys: 4 }),
  fc.array(anyJson, { maxLength: 4 }),
  anyJson,
);

const errorValue = fc.oneof(
  fc.record(
    { code: fc.oneof(fc.integer(), anyJson, hugeNumber), message: fc.oneof(weirdString, anyJson), data: anyJson },
    { requiredKeys: [] },
  ),
  anyJson,
);

/** JSON-RPC-shaped objects: every member may be missing, mistyped, or joined by extra members. */
export const rpcShapedObject: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(
      {
        jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.constantFrom('1.0', '2', 2, 2.0, null, ''), anyJson),
        id: idValue,
        method: methodValue,
        params: paramsValue,
        result: anyJson,
        error: errorValue,
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.oneof(weirdString, fc.constantFrom('__proto__', 'constructor', 'toString')), anyJson, {
      maxKeys: 2,
    }),
  )
  .map(([core, extra]) => ({ ...extra, ...core }));

/** JSON text of a value, with Raw numbers written as they are (recursive: keep values shallow). */
export function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${toJsonText(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Valid messages, then damaged: truncated, a character replaced, inserted or removed. */
const damagedFrame = fc
  .tuple(
    rpcShapedObject.map(toJsonText),
    fc.nat(),
    fc.constantFrom('truncate', 'replace', 'insert', 'delete'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }),
  )
  .map(([text, at, how, ch]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    switch (how) {
      case 'truncate':
        return text.slice(0, i);
      case 'replace':
        return text.slice(0, i) + ch + text.slice(i + 1);
      case 'insert':
        return text.slice(0, i) + ch + text.slice(i);
      default:
        return text.slice(0, i) + text.slice(i + 1);
    }
  });

const bytesAsText = fc
  .tuple(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('utf8', 'latin1'))
  .map(([bytes, encoding]) =>
    encoding === 'utf8' ? new TextDecoder('utf-8', { fatal: false }).decode(bytes) : Buffer.from(bytes).toString('latin1'),
  );

/** Deeply nested arrays/objects inside params (or as the whole frame). */
const deepFrame = fc
  .tuple(
    fc.oneof({ arbitrary: fc.integer({ min: 1, max: 2_000 }), weight: 9 }, { arbitrary: fc.integer({ min: 2_000, max: 60_000 }), weight: 1 }),
    fc.constantFrom('[', '{"a":'),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([depth, open, inParams, closeIt]) => {
    const nested =
      open === '[' ? '['.repeat(depth) + (closeIt ? ']'.repeat(depth) : '') : open.repeat(depth) + '1' + (closeIt ? '}'.repeat(depth) : '');
    return inParams ? `{"jsonrpc":"2.0","id":1,"method":"echo","params":${nested}}` : nested;
  });

// ---- the properties -------------------------------------------------------------------------------

const batchesFlag = fc.boolean();

/** The codec properties, each with the number of runs `npm test` gives it. */
export const codecProperties: PropertyDefinition[] = [
  {
    name: 'decodeFrame never throws on arbitrary strings (any code point, lone surrogates)',
    runs: 2000,
    arbitraries: [fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 200 })), batchesFlag],
    predicate: (frame, batches) => checkFrame(frame as string, batches as boolean),
  },
  {
    name: 'decodeFrame never throws on arbitrary bytes read as UTF-8 or Latin-1',
    runs: 1000,
    arbitraries: [bytesAsText, batchesFlag],
    predicate: (frame, batches) => checkFrame(frame as string, batches as boolean),
  },
  {
    name: 'decodeFrame classifies arbitrary JSON exactly as the JSON-RPC 2.0 rules say',
    runs: 1000,
    arbitraries: [fc.json({ maxDepth: 4 }), batchesFlag],
    predicate: (frame, batches) => checkFrame(frame as string, batches as boolean),
  },
  {
    name: 'decodeFrame accepts only well-typed JSON-RPC-shaped objects (wrong ids, missing and extra members)',
    runs: 3000,
    arbitraries: [rpcShapedObject, batchesFlag],
    predicate: (value, batches) => checkFrame(toJsonText(value), batches as boolean),
  },
  {
    name: 'decodeFrame answers damaged messages with a parse error or an invalid-request error',
    runs: 2000,
    arbitraries: [damagedFrame, batchesFlag],
    predicate: (frame, batches) => checkFrame(frame as string, batches as boolean),
  },
  {
    name: 'decodeFrame survives deep nesting',
    runs: 200,
    arbitraries: [deepFrame],
    predicate: (frame) => checkFrame(frame as string, false),
  },
  {
    name: 'decodeValue on batch items follows the same rules as a frame',
    runs: 1000,
    arbitraries: [fc.array(fc.oneof(rpcShapedObject, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 })],
    predicate: (items) => {
      for (const item of items as unknown[]) {
        // Items are what JSON.parse produced: normalize through text first.
        const value: unknown = JSON.parse(toJsonText(item));
        const decoded = decodeValue(value);
        checkDecoded(decoded, false);
        const expected = expectedKind(value, false);
        if (decoded.kind !== expected) throw new Error(`expected ${expected}, decoded ${decoded.kind}`);
      }
    },
  },
  {
    name: 'encoded requests, notifications and results decode back to the same message',
    runs: 1000,
    arbitraries: [
      fc.oneof(fc.integer(), fc.string({ unit: 'binary', maxLength: 10 })),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.option(fc.oneof(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })), { nil: undefined }),
      fc.jsonValue({ maxDepth: 3 }),
    ],
    predicate: (id, method, params, result) => {
      const normalize = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
      const req = decodeFrame(encodeRequest(id as string | number, method as string, params));
      if (req.kind !== 'request') throw new Error(`request decoded as ${req.kind}`);
      if (!Object.is(req.message.id, id) || req.message.method !== method) throw new Error('request changed');
      // A top-level `__proto__` member of params is dropped (never turned into a prototype).
      const expected = normalize(params) as Record<string, unknown> | unknown[] | undefined;
      if (expected !== undefined && !Array.isArray(expected) && Object.hasOwn(expected, '__proto__')) delete expected['__proto__'];
      if (JSON.stringify(req.message.params) !== JSON.stringify(expected)) throw new Error('params changed');
      const got = req.message.params;
      if (got !== undefined && Object.getPrototypeOf(got) !== (Array.isArray(got) ? Array.prototype : Object.prototype)) {
        throw new Error('params got a foreign prototype');
      }
      const note = decodeFrame(encodeNotification(method as string, params));
      if (note.kind !== 'notification' || note.message.method !== method) throw new Error('notification changed');
      const res = decodeFrame(encodeResult(id as string | number, result));
      if (res.kind !== 'response' || !('result' in res.message)) throw new Error('result did not decode as one');
      if (JSON.stringify(res.message.result) !== JSON.stringify(normalize(result))) throw new Error('result changed');
      const err = decodeFrame(encodeError(id as string | number, { code: -32000, message: method as string, data: result }));
      if (err.kind !== 'response' || !('error' in err.message)) throw new Error('error did not decode as one');
    },
  },
];
