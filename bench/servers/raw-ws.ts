/**
 * The ceiling: a plain `ws` server that JSON.parses each message, validates it with the zod
 * JSON-RPC request schema and echoes the params back as the result. Prints `READY {"port":N}`.
 * Answers `tools/call` with an MCP-shaped result so the same load drives it.
 */
import { WebSocketServer } from 'ws';
import { JsonRpcRequestSchema } from '../../src/jsonrpc/schema.js';
import { serveMemoryCommands } from '../lib/memory-probe.js';
import { echoResult } from '../lib/messages.js';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    let value: unknown;
    try {
      value = JSON.parse(String(data));
    } catch {
      socket.send('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
      return;
    }
    const parsed = JsonRpcRequestSchema.safeParse(value);
    if (!parsed.success) {
      socket.send('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}');
      return;
    }
    const { id, method, params } = parsed.data;
    socket.send(JSON.stringify({ jsonrpc: '2.0', id, result: echoResult(method, params) }));
  });
});
wss.on('listening', () => {
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`READY ${JSON.stringify({ port })}\n`);
});
serveMemoryCommands(
  () => wss.clients.size,
  () =>
    new Promise<void>((resolve) => {
      let open = wss.clients.size;
      if (open === 0) resolve();
      for (const client of wss.clients) {
        client.once('close', () => {
          open -= 1;
          if (open === 0) resolve();
        });
        client.close(1001);
      }
    }),
);
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
