/**
 * vscode-jsonrpc: vscode-jsonrpc 10 on both ends of an in-process stream pair (PassThrough
 * streams with its Content-Length framing), server `echo` returns its params. One `RESULT` per shape.
 */
import { PassThrough } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { arg, closedLoop, parseShapes, type Call } from '../lib/closed-loop.js';

function channel(): { call: Call; close: () => void } {
  const up = new PassThrough();
  const down = new PassThrough();
  const server = createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  server.onRequest('echo', (params: unknown) => params);
  server.listen();
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  client.listen();
  const call: Call = async () => {
    const answer = (await client.sendRequest('echo', { text: 'hello' })) as { text?: string };
    return answer.text === 'hello';
  };
  return {
    call,
    close: () => {
      client.dispose();
      server.dispose();
    },
  };
}

const warmup = Number(arg('warmup', '300'));
const measure = Number(arg('measure', '1000'));
for (const shape of parseShapes(arg('shapes', '1x1,1x32,100x32'))) {
  const channels = Array.from({ length: shape.connections }, () => channel());
  const result = await closedLoop('vscode-jsonrpc', channels.map((c) => c.call), shape.inFlight, warmup, measure);
  for (const c of channels) c.close();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
