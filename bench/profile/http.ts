/**
 * Profile the Streamable HTTP server child: start `bench/servers/<server>` with `--cpu-prof` (into
 * `--dir`), drive it with the bench's own keep-alive HTTP load (or the 10k-abort scenario), stop it
 * so the profile is written, and print the top functions by self time (see `summarize.ts`).
 *
 *   npx tsx bench/profile/http.ts --server supervised-http --connections 100 --measure 5000 --dir /tmp/prof
 *   npx tsx bench/profile/http.ts --abort 10000 --dir /tmp/prof
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pinForLoad } from '../lib/affinity.js';
import { startFixture } from '../lib/child.js';
import { arg } from '../lib/closed-loop.js';
import { runHttpLoad } from '../lib/http-load.js';
import type { HttpLoadKind } from '../lib/messages.js';
import { runHttpAbort } from '../scenarios/http-abort.js';
import { summarizeProfile } from './summarize.js';

const dir = arg('dir', '/tmp/session-supervisor-prof');
const server = arg('server', 'supervised-http');
const kind = arg('kind', 'modern') as HttpLoadKind;
const connections = Number(arg('connections', '100'));
const measureMs = Number(arg('measure', '5000'));
const abort = Number(arg('abort', '0'));
const top = Number(arg('top', '40'));
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));
const nodeArgs = ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', arg('interval', '1000')];

if (abort > 0) {
  console.log(JSON.stringify(await runHttpAbort(abort, nodeArgs)));
} else {
  const fixture = await startFixture(`servers/${server}.ts`, [], { nodeArgs });
  // The server on one CPU, the load on the other, as http-paired measures (steadier figures).
  const pinning = pinForLoad(fixture.child.pid === undefined ? [] : [fixture.child.pid]);
  try {
    const url = `http://127.0.0.1:${fixture.ready.port as number}/mcp`;
    const result = await runHttpLoad({ name: server, url, kind, connections, warmupMs: 1000, measureMs, ...(fixture.child.pid === undefined ? {} : { serverPid: fixture.child.pid }) });
    console.log(JSON.stringify(result));
  } finally {
    pinning.restore();
    await fixture.stop();
  }
}
const written = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile') && !before.has(name));
for (const name of written) {
  console.log(`\n${join(dir, name)}`);
  console.log(summarizeProfile(join(dir, name), top));
}
