/**
 * `npm run conformance`: the official MCP conformance suite, server mode, against the fixture
 * (examples/conformance/server.ts), for both requirement sets. Prints one line per set, the
 * unscored scenarios (the `tasks-*` extension among them) separately, and exits 1 when a scored
 * scenario fails (2 when the suite could not run at all).
 *
 *   npm run conformance            # both sets
 *   npm run conformance -- --verbose   # also the suite's own output
 */
import { node22, runSet, scoreLine, startFixture, type SetResult } from './conformance-run.js';

const SETS = ['2025-11-25', '2026-07-28'];
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
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
