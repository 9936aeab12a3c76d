import type { Server } from 'node:http';

/**
 * Listen on 127.0.0.1 port 0, print `READY {"port":N}` once listening, and on SIGTERM close every
 * connection and exit: the lifecycle every plain `node:http` bench server shares.
 */
export function servePlainHttp(server: Server): void {
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.stdout.write(`READY ${JSON.stringify({ port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
