// `npm run rolling`: HAProxy (deploy/haproxy/haproxy.cfg) in front of 3 session-supervisor
// instances on loopback ports; modern and legacy clients run through it while the instances are
// restarted one by one (SIGTERM, wait for the exit, start a new one). Prints a ledger; exit 0 only
// when nothing was lost silently, nothing crashed, every refusal came before admission, every
// legacy client that met a 404 re-initialized and finished, and every instance exited 0 in budget.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLegacyClient, runModernClient } from './rolling-clients.js';
import { Ledger, type LegacyStory } from './rolling-ledger.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const CLI = join(ROOT, 'dist/src/cli.js');
const HAPROXY_CFG = join(ROOT, 'deploy/haproxy/haproxy.cfg');

/** The instances' shutdown budget (ms) and the margin allowed for closing and exiting. */
export const BUDGET = { shutdownDelayMs: 1000, drainTimeoutMs: 2000, cancelGraceMs: 500, exitMarginMs: 1500 } as const;
const BUDGET_MS = BUDGET.shutdownDelayMs + BUDGET.drainTimeoutMs + BUDGET.cancelGraceMs + BUDGET.exitMarginMs;

export interface RollingOptions {
  modernClients: number;
  legacyClients: number;
  rounds: number;
  /** Traffic before the first restart and after the last one (ms). */
  settleMs: number;
  log?: (line: string) => void;
}

/** Whether `haproxy` can be run here. */
export function haproxyAvailable(): boolean {
  return spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves with the first output line that matches, rejects if the process exits first. */
function lineOf(child: ChildProcess, stream: 'stdout' | 'stderr', match: RegExp, what: string): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      const found = buffer.split('\n').find((l) => match.test(l));
      if (found !== undefined) {
        cleanup();
        resolveLine(found);
      }
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`${what} exited before ${String(match)}: ${buffer.slice(-500)}`));
    };
    const cleanup = (): void => {
      child[stream]?.off('data', onData);
      child.off('exit', onExit);
    };
    child[stream]?.on('data', onData);
    child.once('exit', onExit);
  });
}

interface Instance {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startInstance(name: string, port: number): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [
      CLI, 'serve', '--port', String(port), '--log-level', 'warn',
      '--shutdown-delay', String(BUDGET.shutdownDelayMs),
      '--drain-timeout', String(BUDGET.drainTimeoutMs),
      '--cancel-grace', String(BUDGET.cancelGraceMs),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  await lineOf(child, 'stderr', /^listening http:/, name);
  return { name, port, child, exited };
}

/** Poll HAProxy's CSV stats until server `name` reports `status` (bounded). */
async function waitForServer(statsUrl: string, name: string, status: 'UP' | 'DOWN'): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    const csv = await fetch(`${statsUrl};csv`).then((r) => r.text()).catch(() => '');
    const row = csv.split('\n').find((l) => l.startsWith(`instances,${name},`));
    if (row?.split(',')[17]?.startsWith(status) === true) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`HAProxy never marked ${name} ${status}`);
}

/** Run the rolling restart; resolves with the ledger. */
export async function runRolling(options: RollingOptions): Promise<Ledger> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ledger = new Ledger();
  const ports = [await freePort(), await freePort(), await freePort()];
  const frontend = await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rolling-'));
  const instances: (Instance | undefined)[] = [];
  let haproxy: ChildProcess | undefined;
  try {
    for (const [i, port] of ports.entries()) instances.push(await startInstance(`i${i + 1}`, port));
    haproxy = spawn('haproxy', ['-db', '-f', HAPROXY_CFG], {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: dir,
      env: {
        ...process.env,
        SS_FRONTEND: `127.0.0.1:${frontend}`,
        SS_STATS: `127.0.0.1:${statsPort}`,
        SS_CHECK_INTER: '200ms',
        SS_INSTANCE_1: `127.0.0.1:${ports[0]}`,
        SS_INSTANCE_2: `127.0.0.1:${ports[1]}`,
        SS_INSTANCE_3: `127.0.0.1:${ports[2]}`,
      },
    });
    let haproxyDied = false;
    haproxy.once('exit', () => {
      haproxyDied = true;
    });
    const statsUrl = `http://127.0.0.1:${statsPort}/stats`;
    for (const i of [1, 2, 3]) await waitForServer(statsUrl, `i${i}`, 'UP');
    log(`haproxy on 127.0.0.1:${frontend}, instances on ${ports.join(', ')}`);

    const url = `http://127.0.0.1:${frontend}/mcp`;
    let stopped = false;
    const stop = (): boolean => stopped;
    const clients: Promise<void>[] = [];
    ledger.begin();
    for (let c = 0; c < options.modernClients; c += 1) clients.push(runModernClient(url, ledger, stop, c * 1_000_000 + 1));
    for (let c = 0; c < options.legacyClients; c += 1) {
      const story: LegacyStory = { met404: 0, reinitialized: 0, finished: false };
      ledger.legacy.push(story);
      clients.push(runLegacyClient(url, ledger, stop, story));
    }

    await new Promise((r) => setTimeout(r, options.settleMs));
    const from = ledger.now();
    for (let round = 0; round < options.rounds; round += 1) {
      for (const [i, port] of ports.entries()) {
        const old = instances[i]!;
        const began = performance.now();
        old.child.kill('SIGTERM');
        const exit = await old.exited;
        ledger.exits.push({ name: `${old.name} (round ${round + 1})`, code: exit.code, signal: exit.signal, ms: performance.now() - began, budgetMs: BUDGET_MS });
        if (exit.code !== 0) ledger.crashes += 1;
        instances[i] = undefined;
        instances[i] = await startInstance(old.name, port);
        await waitForServer(statsUrl, old.name, 'UP');
        log(`restarted ${old.name} (round ${round + 1}) in ${Math.round(performance.now() - began)} ms`);
      }
    }
    ledger.restartWindow = { from, to: ledger.now() };
    await new Promise((r) => setTimeout(r, options.settleMs));
    stopped = true;
    await Promise.all(clients);
    if (haproxyDied) ledger.crashes += 1;
    // The last instances stop the same way (their exits are part of the ledger too).
    for (const instance of instances) {
      if (instance === undefined) continue;
      const began = performance.now();
      instance.child.kill('SIGTERM');
      const exit = await instance.exited;
      ledger.exits.push({ name: `${instance.name} (final)`, code: exit.code, signal: exit.signal, ms: performance.now() - began, budgetMs: BUDGET_MS });
      if (exit.code !== 0) ledger.crashes += 1;
    }
    return ledger;
  } finally {
    for (const instance of instances) if (instance?.child.exitCode === null) instance.child.kill('SIGKILL');
    if (haproxy !== undefined && haproxy.exitCode === null) haproxy.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  if (!haproxyAvailable()) {
    process.stderr.write('rolling: haproxy is not installed (apt-get install -y haproxy)\n');
    process.exitCode = 2;
  } else {
    const ledger = await runRolling({ modernClients: 8, legacyClients: 6, rounds: 2, settleMs: 2000 });
    process.stdout.write(`${ledger.render()}\n`);
    process.exitCode = ledger.failures().length === 0 ? 0 : 1;
  }
}
