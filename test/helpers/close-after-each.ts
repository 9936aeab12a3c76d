import { afterEach } from 'vitest';

/**
 * Close what a test started (a server, then its listener), after each test of the calling file, in
 * the order it was started; call once at the top of the file.
 *
 * @example
 * const closeLater = closeAfterEach();
 * const server = closeLater(createMcpServer({ name: 't', version: '1', tools: [] }));
 * const listener = closeLater(await listenHttp(server, { port: 0 }));
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(started: T) => T {
  const started: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const thing of started.splice(0)) await thing.close();
  });
  return (thing) => {
    started.push(thing);
    return thing;
  };
}
