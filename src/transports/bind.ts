import type { Server } from 'node:http';

/**
 * Where a listener ended up: the port bound (the real one when `0` was asked) and the host as it
 * goes in a URL (an IPv6 address in brackets).
 *
 * @example
 * ```ts
 * const { port, urlHost } = await bindServer(server, '::1', 0); // urlHost '[::1]'
 * ```
 */
export interface BoundAddress {
  readonly port: number;
  readonly urlHost: string;
}

/**
 * Listen on `host:port`; reject on a listen error (EADDRINUSE, …) without leaving a listener behind.
 *
 * @example
 * ```ts
 * const { port, urlHost } = await bindServer(createServer(handler), '127.0.0.1', 0);
 * console.log(`http://${urlHost}:${port}/`);
 * ```
 */
export async function bindServer(server: Server, host: string, port: number): Promise<BoundAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    urlHost: host.includes(':') ? `[${host}]` : host,
  };
}

/**
 * Close a server and every connection it still has (keep-alive ones too); resolves once closed.
 *
 * @example
 * ```ts
 * await closeServer(server);
 * ```
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
