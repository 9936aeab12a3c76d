import type { Server } from 'node:http';
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
