// The stdio transport over in-memory streams (PassThrough / Writable): the seams the real-pipe tests
// in stdio.test.ts cannot reach deterministically (backpressure, repeated output errors, close).
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createSupervisor, ErrorCode, SupervisorError } from '../../src/index.js';
import { createStdioTransport, serveStdio } from '../../src/transports/stdio.js';
import type { MalformedFrame, TransportSink } from '../../src/transports/types.js';

type Seen =
  | { frame: string }
  | { malformed: MalformedFrame }
  | { inputEnded: true }
  | { closed: string }
  | { pressure: 'normal' | 'high' };

function recorder(): { sink: TransportSink; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    sink: {
      onFrame: (frame) => seen.push({ frame }),
      onMalformed: (malformed) => seen.push({ malformed }),
      onInputEnded: () => seen.push({ inputEnded: true }),
      onClosed: (closed) => seen.push({ closed }),
      onPressure: (pressure) => seen.push({ pressure }),
    },
  };
}

/** A writable that holds every write until `release()`; `highWaterMark` 8 bytes. */
function slowWritable(): { stream: Writable; written: string[]; release(): void } {
  const written: string[] = [];
  const held: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 8,
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString());
      held.push(() => callback());
    },
  });
  return {
    stream,
    written,
    release() {
      for (const done of held.splice(0)) done();
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createStdioTransport', () => {
  it('delivers lines as frames, then input ended after the last line without newline', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const transport = createStdioTransport({ input, output });
    const { sink, seen } = recorder();
    transport.start(sink);
    input.write('{"a":1}\r\n{"b"');
    input.end(':2}');
    await tick();
    expect(seen).toEqual([{ frame: '{"a":1}' }, { frame: '{"b":2}' }, { inputEnded: true }]);
    expect(transport.outputOpen).toBe(true);
  });

  it('reports input ended when the input is destroyed without an end', async () => {
    const input = new PassThrough();
    const transport = createStdioTransport({ input, output: new PassThrough() });
    const { sink, seen } = recorder();
    transport.start(sink);
    input.destroy();
    await tick();
    expect(seen).toEqual([{ inputEnded: true }]);
  });

  it('reports streams that were already over when it starts', async () => {
    const input = new PassThrough();
    input.resume();
    input.end();
    await tick();
    const output = new PassThrough();
    output.destroy();
    const transport = createStdioTransport({ input, output });
    const { sink, seen } = recorder();
    transport.start(sink);
    expect(seen).toEqual([{ closed: 'output closed' }, { inputEnded: true }]);
    expect(transport.outputOpen).toBe(false);
  });

  it('writes one line per frame; the frames of one tick leave in one write', async () => {
    const output = new PassThrough();
    const chunks: string[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const transport = createStdioTransport({ input: new PassThrough(), output });
    transport.start(recorder().sink);
    transport.send('{"x":1}');
    transport.send('{"y":2}');
    expect(chunks).toEqual([]);
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(chunks).toEqual(['{"x":1}\n{"y":2}\n']);
    transport.send('{"z":3}');
    await tick();
    expect(chunks).toEqual(['{"x":1}\n{"y":2}\n', '{"z":3}\n']);
  });

  it('treats an output error as output gone: one onClosed, no more writes, later errors swallowed', async () => {
    const output = new PassThrough();
    const transport = createStdioTransport({ input: new PassThrough(), output });
    const { sink, seen } = recorder();
    transport.start(sink);
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    output.emit('error', epipe);
    output.emit('error', epipe);
    expect(seen).toEqual([{ closed: 'output error: EPIPE' }]);
    expect(transport.outputOpen).toBe(false);
    transport.send('{"late":true}');
    expect(transport.writesAfterClose).toBe(1);
    transport.close('normal');
    // Still no throw once the transport let go of the stream.
    output.emit('error', epipe);
    await tick();
    expect(seen).toEqual([{ closed: 'output error: EPIPE' }]);
  });

  it('reports pressure high when the output refuses more, and normal again on drain', async () => {
    const slow = slowWritable();
    const transport = createStdioTransport({ input: new PassThrough(), output: slow.stream });
    const { sink, seen } = recorder();
    transport.start(sink);
    transport.send('{"n":1}');
    transport.send('{"n":2}');
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual([{ pressure: 'high' }]);
    slow.release();
    await tick();
    expect(seen).toEqual([{ pressure: 'high' }, { pressure: 'normal' }]);
    expect(slow.written.join('')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('counts the output as gone once more than maxBufferedBytes are left unread', async () => {
    const slow = slowWritable();
    const transport = createStdioTransport({ input: new PassThrough(), output: slow.stream, maxBufferedBytes: 20 });
    const { sink, seen } = recorder();
    transport.start(sink);
    transport.send('{"n":1}');
    await tick();
    transport.send('{"n":2}');
    await tick();
    expect(transport.outputOpen).toBe(true);
    expect(seen).toEqual([{ pressure: 'high' }]);
    transport.send('{"n":3}');
    await tick();
    expect(seen).toEqual([{ pressure: 'high' }, { closed: 'output overloaded' }]);
    expect(transport.outputOpen).toBe(false);
    expect(slow.stream.writableLength).toBe(24);
    transport.send('{"n":4}');
    expect(transport.writesAfterClose).toBe(1);
  });

  it('close() ends the output, stops reading the input and is idempotent', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const transport = createStdioTransport({ input, output });
    const { sink, seen } = recorder();
    transport.start(sink);
    let finished = false;
    output.on('finish', () => {
      finished = true;
    });
    transport.send('{"last":true}');
    transport.close('going-away');
    transport.close('normal');
    expect(seen).toEqual([{ closed: 'closed by server' }]);
    expect(transport.outputOpen).toBe(false);
    expect(input.isPaused()).toBe(true);
    // Invariant 5: nothing of the transport stays on the streams but one inert 'error' guard each.
    for (const event of ['data', 'end', 'close']) expect(input.listenerCount(event)).toBe(0);
    for (const event of ['drain', 'close']) expect(output.listenerCount(event)).toBe(0);
    expect(input.listenerCount('error')).toBe(1);
    expect(output.listenerCount('error')).toBe(1);
    input.write('{"ignored":true}\n');
    transport.send('{"after":true}');
    expect(String(output.read())).toBe('{"last":true}\n');
    await tick();
    expect(finished).toBe(true);
    expect(transport.writesAfterClose).toBe(1);
    expect(seen).toEqual([{ closed: 'closed by server' }]);
    // A stray write by someone else after the end emits 'error' on the stream: swallowed, no crash.
    let strayError: unknown;
    output.write('stray\n', (error) => {
      strayError = error;
    });
    await tick();
    expect(strayError).toMatchObject({ code: 'ERR_STREAM_WRITE_AFTER_END' });
  });

  it('refuses a maxLineBytes or maxBufferedBytes below 1 with ERR_INVALID_OPTION', () => {
    for (const name of ['maxLineBytes', 'maxBufferedBytes'] as const) {
      for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        const attempt = (): unknown => createStdioTransport({ input: new PassThrough(), output: new PassThrough(), [name]: value });
        expect(attempt).toThrow(SupervisorError);
        expect(attempt).toThrow(new RegExp(name));
      }
    }
  });
});

describe('one transport per input stream', () => {
  it('refuses a second transport on an input another one reads, and frees the input when the first stops reading', () => {
    const input = new PassThrough();
    const first = createStdioTransport({ input, output: new PassThrough() });
    const second = (): unknown => createStdioTransport({ input, output: new PassThrough() });
    expect(second).toThrow(expect.objectContaining({ code: 'ERR_TRANSPORT_IN_USE' }));
    const { sink, seen } = recorder();
    first.start(sink);
    expect(second).toThrow(SupervisorError);
    first.close('normal');
    expect(seen).toEqual([{ closed: 'closed by server' }]);
    const third = createStdioTransport({ input, output: new PassThrough() });
    third.close('normal');
  });

  it('frees the input once it ended, so a new transport may take it', async () => {
    const input = new PassThrough();
    const first = createStdioTransport({ input, output: new PassThrough() });
    const { sink, seen } = recorder();
    first.start(sink);
    input.end();
    await tick();
    expect(seen).toEqual([{ inputEnded: true }]);
    expect(() => createStdioTransport({ input, output: new PassThrough() })).not.toThrow();
  });

  it('serveStdio refuses with ERR_NOT_ACCEPTING before it claims the input', async () => {
    const input = new PassThrough();
    const supervisor = createSupervisor({ methods: {} });
    await supervisor.drain();
    expect(() => serveStdio(supervisor, { input, output: new PassThrough() })).toThrow(expect.objectContaining({ code: 'ERR_NOT_ACCEPTING' }));
    const transport = createStdioTransport({ input, output: new PassThrough() });
    transport.close('normal');
  });
});

describe('serveStdio', () => {
  it('serves a session over the streams, with the supervisor maxMessageBytes as the line cap', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: unknown[] = [];
    output.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line));
    });
    const supervisor = createSupervisor({ methods: { echo: (params) => params }, limits: { maxMessageBytes: 64 } });
    const session = serveStdio(supervisor, { input, output });
    expect(session.transportKind).toBe('stdio');
    input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(100)] })}\n`);
    input.end(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'echo', params: ['ok'] })}\n`);
    const info = await session.closed;
    await tick();
    expect(lines).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit: 64 } } },
      { jsonrpc: '2.0', id: 2, result: ['ok'] },
    ]);
    expect(info).toEqual({ sessionId: 's1', reason: null, drainReason: 'input-ended', failed: false });
    expect(supervisor.stats()).toMatchObject({ inFlight: 0, blockedSends: 0, completed: 1 });
    await supervisor.close();
  });
});

describe('createStdioTransport in a process that exits', () => {
  it('writes the frames of the tick in which the process exits (stdout on a pipe)', async () => {
    const { spawn } = await import('node:child_process');
    const script = [
      "import { createStdioTransport } from './src/transports/stdio.ts';",
      'const transport = createStdioTransport();',
      'transport.start({ onFrame() {}, onMalformed() {}, onInputEnded() {}, onClosed() {} });',
      "transport.send('{\"last\":1}');",
      "transport.send('{\"last\":2}');",
      'process.exit(0);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(out).toBe('{"last":1}\n{"last":2}\n');
  }, 60_000);
});

describe('createStdioTransport and the process', () => {
  it('adds at most one process exit listener however many transports start and send', async () => {
    const before = process.listenerCount('exit');
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    const outputs: PassThrough[] = [];
    const transports = Array.from({ length: 20 }, () => {
      const input = new PassThrough();
      const output = new PassThrough();
      outputs.push(output);
      const transport = createStdioTransport({ input, output });
      transport.start(recorder().sink);
      transport.send('{"jsonrpc":"2.0","method":"x"}');
      return transport;
    });
    expect(process.listenerCount('exit')).toBeLessThanOrEqual(before + 1);
    await tick();
    for (const output of outputs) expect(String(output.read())).toBe('{"jsonrpc":"2.0","method":"x"}\n');
    for (const transport of transports) transport.close('normal');
    await tick();
    process.off('warning', onWarning);
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
