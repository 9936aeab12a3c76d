import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

// The packed tarball, installed the way a user installs it, in a scratch project under the OS temp
// directory: no install-script warning, the public .d.ts compile with skipLibCheck false, the quick
// start runs, the CLI's diagrams command works. Dependencies come from npm's cache (--prefer-offline).

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const typesNodeVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;

let scratch: string;
let consumer: string;
let tarball: string;
let installLog: string;
let strictCompile: { code: number; output: string };

/** The README quick start, as a consumer writes it (port from the environment, and it says where it listens). */
const QUICKSTART = `import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { shutdownOnSignals } from 'session-supervisor';
import { createMcpServer, defineTool } from 'session-supervisor/mcp';
import { listenWebSocket } from 'session-supervisor/ws';

const countdown = defineTool({
  name: 'countdown',
  description: 'Count down from n, one step a second',
  input: z.object({ n: z.number().int().min(1).max(60) }),
  run: async ({ n }, ctx) => {
    for (let i = n; i > 0; i -= 1) {
      ctx.progress(n - i, n, \`\${i} left\`);
      await sleep(1000, undefined, { signal: ctx.signal });
    }
    return 'lift-off';
  },
});

const server = createMcpServer({ name: 'countdown', version: '1.0.0', tools: [countdown] });
const listener = await listenWebSocket(server, { port: Number(process.env.PORT ?? 8787) });
console.log(\`listening \${listener.url}\`);
shutdownOnSignals(server, { listeners: [listener] });
`;

/** Every public entry point, so the compiler reads every published .d.ts. */
const ALL_ENTRIES = `import * as root from 'session-supervisor';
import * as machines from 'session-supervisor/machines';
import * as ws from 'session-supervisor/ws';
import * as stdio from 'session-supervisor/stdio';
import * as mcp from 'session-supervisor/mcp';
import * as testing from 'session-supervisor/testing';
import * as tracing from 'session-supervisor/tracing';
export const entries = [root, machines, ws, stdio, mcp, testing, tracing];
`;

const tsconfig = (exactOptionalPropertyTypes: boolean) => ({
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'dist',
  },
  include: ['src'],
});

async function tsc(project: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', project], { cwd: consumer, timeout: 120_000 });
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: e.stdout ?? String(error) };
  }
}

beforeAll(async () => {
  // `npm test` builds first (pretest); packing must not rebuild while other test files run the CLI.
  expect(existsSync(join(ROOT, 'dist', 'src', 'index.js'))).toBe(true);
  scratch = mkdtempSync(join(tmpdir(), 'session-supervisor-pack-'));
  const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: ROOT, timeout: 120_000 });
  tarball = join(scratch, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
  consumer = join(scratch, 'consumer');
  mkdirSync(join(consumer, 'src'), { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  const install = await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `@types/node@${typesNodeVersion}`], { cwd: consumer, timeout: 300_000 });
  installLog = `${install.stdout}\n${install.stderr}`;
  writeFileSync(join(consumer, 'src', 'quickstart.ts'), QUICKSTART);
  writeFileSync(join(consumer, 'src', 'entries.ts'), ALL_ENTRIES);
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(tsconfig(false)));
  writeFileSync(join(consumer, 'tsconfig.exact.json'), JSON.stringify({ ...tsconfig(true), compilerOptions: { ...tsconfig(true).compilerOptions, noEmit: true } }));
  // Emits dist/quickstart.js, which the quick-start test runs.
  strictCompile = await tsc('tsconfig.json');
}, 600_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed package, installed in a fresh project', () => {
  it('ships the built dist/ and no install-time script; installing it warns about no install script', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.split('\n');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/dist/src/observability/tracing.d.ts');
    expect(files.some((f) => f.startsWith('package/test/') || f.startsWith('package/bench/'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', 'session-supervisor', 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[script], script).toBeUndefined();
    expect(installLog).not.toMatch(/install-scripts|install script/i);
  });

  it('compiles every public entry and the quick start with skipLibCheck false', async () => {
    expect(strictCompile.output).toBe('');
    expect(strictCompile.code).toBe(0);
    // With exactOptionalPropertyTypes too: nothing of ours is reported (xstate's own declarations
    // do not compile under that flag with skipLibCheck false; that is theirs to fix).
    const exact = await tsc('tsconfig.exact.json');
    const ours = exact.output.split('\n').filter((l) => /error TS/.test(l) && !l.startsWith('node_modules/xstate/'));
    expect(ours).toEqual([]);
  }, 180_000);

  it('runs the quick start: it says where it listens, serves its tool, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(consumer, 'dist', 'quickstart.js')], { cwd: consumer, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let url: string | undefined;
      for await (const line of createInterface({ input: child.stdout })) {
        if (line.startsWith('listening ')) {
          url = line.slice('listening '.length);
          break;
        }
      }
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      const ws = new WebSocket(url!, 'mcp');
      const answers = new Map<number, unknown>();
      const waiting = new Map<number, (value: unknown) => void>();
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { id?: number };
        if (typeof message.id !== 'number') return;
        answers.set(message.id, message);
        waiting.get(message.id)?.(message);
      });
      const answer = (id: number): Promise<unknown> => (answers.has(id) ? Promise.resolve(answers.get(id)) : new Promise((resolve) => waiting.set(id, resolve)));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }));
      expect(await answer(1)).toMatchObject({ result: { serverInfo: { name: 'countdown' } } });
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'countdown', arguments: { n: 1 } } }));
      expect(await answer(2)).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'lift-off' }] } });
      ws.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('runs `session-supervisor diagrams` from the install, and says what it needs when elkjs is missing', async () => {
    const bin = join(consumer, 'node_modules', '.bin', 'session-supervisor');
    const version = await run(bin, ['--version'], { cwd: consumer });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const made = await run(bin, ['diagrams', '--out', 'diagrams'], { cwd: consumer, timeout: 120_000 });
    expect(made.stdout).toMatch(/^wrote /);
    expect(readdirSync(join(consumer, 'diagrams')).sort()).toEqual(expect.arrayContaining(['connection.mmd', 'connection.svg', 'handler.svg', 'supervisor.svg']));

    const elk = join(consumer, 'node_modules', 'elkjs');
    renameSync(elk, `${elk}.away`);
    try {
      const failed = await run(bin, ['diagrams', '--out', 'again'], { cwd: consumer }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain("the SVG layout needs the package 'elkjs', which is not installed here");
      expect(failed.stderr).toContain('npm install elkjs');
    } finally {
      renameSync(`${elk}.away`, elk);
    }
  }, 120_000);
});
