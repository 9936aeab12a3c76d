import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listen on `host:port` and resolve with the `http://host:port` origin actually bound (IPv6 in
 * brackets); reject on a listen error (e.g. EADDRINUSE) without leaving a listener behind.
 */
export async function listenHttp(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${urlHost}:${address.port}`;
}

/** A small HTTP server of our own (metrics, dashboard): where it listens, and how to stop it. */
export interface OwnHttpServer {
  /** The `http://host:port` origin bound. */
  readonly origin: string;
  /** Run `stop`, close the server and every open connection; idempotent. */
  close(): Promise<void>;
}

/**
 * Serve `handle` on `host:port`. `stop` releases what the server feeds on (trackers, timers,
 * open streams): it runs on `close()`, and also when listening fails, before the error is thrown.
 */
export async function serveHttp(handle: RequestListener, host: string, port: number, stop: () => void): Promise<OwnHttpServer> {
  const server = createServer(handle);
  let origin: string;
  try {
    origin = await listenHttp(server, host, port);
  } catch (error) {
    stop();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    origin,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
