/**
 * `npm run conformance`: the official MCP conformance suite, server mode, against the fixture
 * (examples/conformance/server.ts), for both requirement sets. Prints one line per set, the
 * unscored scenarios (the `tasks-*` extension among them) separately, and exits 1 when a scored
 * scenario fails (2 when the suite could not run at all).
 *
 *   npm run conformance            # both sets
 *   npm run conformance -- --verbose   # also the suite's own output
 */
import { spawnSync } from 'node:child_process';
import { startRedis } from '../test/mcp/tasks-redis-server.js';
import { node22, runSet, scoreLine, startFixture, type ScenarioResult, type SetResult } from './conformance-run.js';

const SETS = ['2025-11-25', '2026-07-28'];
const TASKS_SET = '2026-07-28';
const verbose = process.argv.includes('--verbose');

function unscoredLines(result: SetResult): string[] {
  const lines: string[] = [];
  for (const scenario of result.scenarios) {
    if (scenario.unscored === undefined) continue;
    const checks = scenario.passed + scenario.failed;
    const verdict = checks === 0 ? 'no checks ran' : scenario.ok ? 'passed' : `failed (${scenario.failed}/${checks} checks)`;
    lines.push(`  ${result.requirements} ${scenario.unscored}: ${scenario.name} ${verdict}`);
  }
  return lines;
}

const isTasks = (scenario: ScenarioResult): boolean => scenario.name.startsWith('tasks-');
/** Tasks scenarios that ran checks and failed. */
const failedTasks = (result: SetResult): string[] => result.scenarios.filter((s) => isTasks(s) && s.passed + s.failed > 0 && !s.ok).map((s) => s.name);

/** `tasks-* (<store> task store): N/M passed`, counting the scenarios that ran checks. */
function tasksLine(result: SetResult, store: string): string {
  const ran = result.scenarios.filter((s) => isTasks(s) && s.passed + s.failed > 0);
  const failing = failedTasks(result);
  const tail = failing.length > 0 ? ` (failing: ${failing.join(', ')})` : '';
  return `conformance ${result.requirements} tasks-* (${store} task store): ${ran.length - failing.length}/${ran.length} passed${tail}`;
}

/** The tasks scenarios again, with the fixture keeping its tasks in a Redis of our own; `undefined` without redis-server. */
async function runOnRedis(node: string): Promise<SetResult | undefined> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const redis = await startRedis();
  try {
    const fixture = await startFixture(30_000, ['--task-store', 'redis', '--redis-url', redis.url]);
    try {
      return await runSet(fixture.url, TASKS_SET, node);
    } finally {
      await fixture.stop();
    }
  } finally {
    await redis.stop();
  }
}

async function main(): Promise<number> {
  const node = node22();
  const fixture = await startFixture();
  let failed = false;
  const results: SetResult[] = [];
  try {
    for (const requirements of SETS) {
      const result = await runSet(fixture.url, requirements, node);
      if (verbose) process.stdout.write(result.output);
      if (result.scenarios.length === 0) {
        process.stdout.write(result.output);
        throw new Error(`conformance ${requirements}: no summary in the suite's output (exit ${result.exitCode})`);
      }
      results.push(result);
    }
  } finally {
    await fixture.stop();
  }
  for (const result of results) {
    const { line, failing } = scoreLine(result);
    process.stdout.write(`${line}\n`);
    if (failing.length > 0) failed = true;
  }
  const unscored = results.flatMap(unscoredLines);
  if (unscored.length > 0) process.stdout.write(`not scored (extension / pending; they do not count):\n${unscored.join('\n')}\n`);
  const memory = results.find((result) => result.requirements === TASKS_SET);
  if (memory !== undefined) {
    process.stdout.write(`${tasksLine(memory, 'memory')}\n`);
    if (failedTasks(memory).length > 0) failed = true;
  }
  const redis = await runOnRedis(node);
  if (redis === undefined) process.stdout.write(`conformance ${TASKS_SET} tasks-* (redis task store): SKIPPED, redis-server is not installed\n`);
  else {
    if (verbose) process.stdout.write(redis.output);
    if (redis.scenarios.length === 0) {
      process.stdout.write(redis.output);
      throw new Error(`conformance ${TASKS_SET} (redis task store): no summary in the suite's output (exit ${redis.exitCode})`);
    }
    process.stdout.write(`${tasksLine(redis, 'redis')}\n`);
    if (failedTasks(redis).length > 0) failed = true;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
