// `npm run chaos`: many concurrent clients with faults against the real CLI server; prints one line of
// figures and exits non-zero if any invariant broke.
//   npm run chaos                          # 2 000 sessions, 200 at once
//   npm run chaos -- --sessions 10000      # the long run
//   npm run chaos -- --duration 60 --concurrency 100 --seed 7
// Needs the built CLI (`npm run build`).
import { parseArgs } from 'node:util';
import { runChaos } from './chaos.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '200' },
    duration: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    quiet: { type: 'boolean', default: false },
  },
});

const sessions = Number(values.sessions);
const concurrency = Number(values.concurrency);
const seed = Number(values.seed);
const durationS = values.duration === undefined ? undefined : Number(values.duration);
if (![sessions, concurrency, seed].every((n) => Number.isSafeInteger(n) && n >= 0) || (durationS !== undefined && !(durationS > 0))) {
  process.stderr.write('usage: chaos [--sessions N] [--concurrency N] [--duration S] [--seed S] [--quiet]\n');
  process.exit(2);
}

const log = values.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
log?.(`chaos: seed=${seed}, sessions=${sessions}, concurrency=${concurrency}${durationS === undefined ? '' : `, duration=${durationS}s`}`);
const report = await runChaos({ sessions, concurrency, seed, ...(durationS === undefined ? {} : { durationS }), ...(log === undefined ? {} : { log }) });
for (const line of report.unexpected.slice(0, 50)) process.stderr.write(`unexpected: ${line}\n`);
for (const line of report.problems.slice(0, 50)) process.stderr.write(`problem: ${line}\n`);
process.stderr.write(
  `chaos: ${report.seconds.toFixed(1)} s; responsesAfterCancel=${report.responsesAfterCancel}, responsesAfterClose=${report.responsesAfterClose}, ` +
    `crossWired=${report.crossWired}, leakedTimers=${report.leakedTimers}, leakedSockets=${report.leakedSockets}, unexpected=${report.unexpected.length}\n`,
);
process.stdout.write(`${report.line}\n`);
process.exitCode = report.ok ? 0 : 1;
