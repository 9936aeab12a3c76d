/**
 * The streams of a stdio transport, as the guard watches them: `input` ending is a half-close,
 * `output` failing (EPIPE) or closing means the output is gone.
 *
 * @example
 * ```ts
 * guardTransport(transport, { stdio: { input: process.stdin, output: process.stdout } });
 * ```
 */
export interface StdioStreams {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
}

const isReadable = (value: unknown): value is NodeJS.ReadableStream =>
  typeof value === 'object' && value !== null && typeof (value as { on?: unknown }).on === 'function' && typeof (value as { pause?: unknown }).pause === 'function';

const isWritable = (value: unknown): value is NodeJS.WritableStream =>
  typeof value === 'object' && value !== null && typeof (value as { write?: unknown }).write === 'function' && typeof (value as { on?: unknown }).on === 'function';

/**
 * The streams of the official SDK's `StdioServerTransport` (it keeps them as `_stdin` and `_stdout`),
 * or `undefined` when the transport is not a stdio one.
 */
export function sdkStdioStreams(transport: object): StdioStreams | undefined {
  const input = (transport as { _stdin?: unknown })._stdin;
  const output = (transport as { _stdout?: unknown })._stdout;
  return isReadable(input) && isWritable(output) ? { input, output } : undefined;
}

/** Errors that mean the reader of our output is gone. */
const OUTPUT_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** Whether an error from a write means the output is gone (EPIPE and its kin). */
export function isOutputGone(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && OUTPUT_GONE.has(code);
}

/**
 * Watch a stdio pair: `input` ending is a half-close, `output` failing or closing means the output
 * is gone. The output's error listener stays until the stream is closed, so a late EPIPE can never
 * become an uncaught exception. Returns the function that removes the other listeners.
 */
export function watchStdio(
  streams: StdioStreams,
  on: { inputEnded(): void; outputGone(detail: string): void },
): () => void {
  const { input, output } = streams;
  const onEnd = (): void => on.inputEnded();
  const onOutputError = (error: unknown): void => on.outputGone(isOutputGone(error) ? String((error as { code: string }).code) : String(error));
  const onOutputClose = (): void => {
    on.outputGone('output closed');
    output.removeListener('error', onOutputError);
  };
  input.on('end', onEnd);
  output.on('error', onOutputError);
  output.once('close', onOutputClose);
  return () => {
    input.removeListener('end', onEnd);
    output.removeListener('close', onOutputClose);
  };
}
