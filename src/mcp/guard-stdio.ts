import { decodeFrame } from '../jsonrpc/codec.js';
import { ErrorCode, SupervisorError } from '../jsonrpc/errors.js';
import { createStdioTransport, DEFAULT_MAX_LINE_BYTES, type StdioTransport } from '../transports/stdio/transport.js';
import type { MalformedFrame } from '../transports/types.js';
import type { ChannelEvents, GuardChannel, GuardMessage } from './guard-channel.js';
import type { SdkTransport } from './guard-types.js';

/**
 * The streams a guarded stdio server speaks on, one JSON-RPC message per line.
 *
 * @example
 * ```ts
 * guardTransport(new StdioServerTransport(input, output), { stdio: { input, output } });
 * ```
 */
export interface StdioStreams {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
}

/**
 * Whether `transport` is an official SDK's stdio server transport (`StdioServerTransport` of
 * `@modelcontextprotocol/sdk` 1.x or `@modelcontextprotocol/server` 2.x, or a subclass), by the
 * public class name along its prototype chain.
 */
export function isSdkStdioTransport(transport: object): boolean {
  if (typeof (transport as { handleRequest?: unknown }).handleRequest === 'function') return false;
  for (let proto: unknown = Object.getPrototypeOf(transport); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === 'StdioServerTransport') return true;
  }
  return false;
}

/**
 * The streams an SDK stdio transport built without arguments reads: `process.stdin` and
 * `process.stdout` (both SDK lines default to them). Checked with public API only: the transport
 * is started and closed once, and it must have added a `'data'` listener to `process.stdin`;
 * one built over other streams did not, and the guard cannot know them — it throws
 * `ERR_INVALID_OPTION` asking for `stdio: { input, output }`. No line is read meanwhile: start and
 * close run before the event loop turns.
 */
export async function processStdioOf(transport: SdkTransport): Promise<StdioStreams> {
  const input = process.stdin;
  const before = new Set(input.listeners('data'));
  const ignore = (): void => {};
  transport.onmessage = ignore;
  transport.onerror = ignore;
  transport.onclose = ignore;
  let readsProcessStdin = false;
  try {
    await transport.start();
    readsProcessStdin = input.listeners('data').some((listener) => !before.has(listener));
  } finally {
    await transport.close();
  }
  if (!readsProcessStdin) {
    throw new SupervisorError(
      'ERR_INVALID_OPTION',
      'guardTransport: this StdioServerTransport reads other streams than process.stdin; pass them as the `stdio: { input, output }` option',
    );
  }
  return { input, output: process.stdout };
}

const UNREADABLE: Record<MalformedFrame, (limit: number) => { code: number; message: string; data: unknown }> = {
  'invalid-utf8': () => ({ code: ErrorCode.ParseError, message: 'Parse error', data: 'invalid UTF-8' }),
  'too-large': (limit) => ({ code: ErrorCode.MessageTooLarge, message: 'Message too large', data: { limit } }),
};

/**
 * The stdio policy: the guard speaks on the streams itself, through this library's stdio transport,
 * in place of the SDK's (which is never started), so that
 * - a line that is not valid UTF-8, not JSON, or not a JSON-RPC message is answered (−32700 /
 *   −32600 / −32004, `id: null`) and the session goes on — the SDKs only report or skip it;
 * - stdin EOF is a half-close on both SDK lines: answers in flight are still written (SDK 2.x's
 *   own transport closes itself at EOF and refuses every later send);
 * - EPIPE and a closed stdout are the output gone, caught, never a crash;
 * - closing stops reading stdin and ends stdout, so the process exits by itself.
 */
export class StdioChannel implements GuardChannel {
  private transport: StdioTransport | undefined;
  private events: ChannelEvents | undefined;

  constructor(
    private readonly streams: StdioStreams | (() => Promise<StdioStreams>),
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  get outputOpen(): boolean {
    return this.transport?.outputOpen ?? true;
  }

  async start(events: ChannelEvents): Promise<void> {
    this.events = events;
    const { input, output } = typeof this.streams === 'function' ? await this.streams() : this.streams;
    const transport = createStdioTransport({ input, output, maxLineBytes: this.maxLineBytes });
    this.transport = transport;
    transport.start({
      onFrame: (frame) => this.onFrame(frame),
      onMalformed: (problem) => events.unreadable(UNREADABLE[problem](this.maxLineBytes)),
      onInputEnded: () => events.inputEnded(),
      onClosed: (detail) => events.outputGone(detail),
    });
  }

  send(message: GuardMessage): Promise<void> {
    this.transport?.send(JSON.stringify(message));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.transport?.close('normal');
    return Promise.resolve();
  }

  private onFrame(frame: string): void {
    // Without the `batches` option an array is invalid (−32600): MCP has no batches since
    // 2025-06-18, and the SDKs' stdio transports take none either.
    const decoded = decodeFrame(frame);
    if (decoded.kind === 'invalid') this.events?.unreadable(decoded.error);
    else if (decoded.kind !== 'batch') this.events?.message(decoded.message as GuardMessage);
  }
}
