// The long fuzz run: the same properties as the vitest suites, for as many runs as asked.
//   npm run fuzz                      # 10 000 runs of each property
//   npm run fuzz -- --runs 1000000    # a million
//   npm run fuzz -- --seed 42 --only session
// Runs go in chunks of at most 10 000 with seeds seed, seed+1, …; a failure prints its seed and path,
// so `--seed S --runs N` reproduces it.
import { parseArgs } from 'node:util';
import { codecProperties } from './codec-properties.js';
import { checkProperty, DEFAULT_SEED, type PropertyDefinition } from './property.js';
import { sessionProperties } from './session-properties.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    only: { type: 'string' },
    chunk: { type: 'string', default: '10000' },
  },
});

const runs = Number(values.runs);
const seed = Number(values.seed);
const chunk = Math.max(1, Number(values.chunk));
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  process.stderr.write('usage: fuzz [--runs N] [--seed S] [--only TEXT] [--chunk N]\n');
  process.exit(2);
}

const all: PropertyDefinition[] = [...codecProperties, ...sessionProperties].filter(
  (def) => values.only === undefined || def.name.includes(values.only),
);

// The development build of xstate warns on events sent to stopped actors (dropped on purpose by the
// runtime); keep the long run's output to the figures.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('stopped actor')) return;
  warn(...args);
};

let failed = 0;
for (const def of all) {
  const started = performance.now();
  let done = 0;
  let chunkSeed = seed;
  try {
    while (done < runs) {
      const n = Math.min(chunk, runs - done);
      await checkProperty(def, n, chunkSeed);
      done += n;
      chunkSeed += 1;
      if (runs > chunk) process.stdout.write(`  ${def.name}: ${done}/${runs}\r`);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`ok   ${def.name} — ${runs} runs in ${seconds} s\n`);
  } catch (error) {
    failed += 1;
    process.stdout.write(`FAIL ${def.name} — after ${done} runs, chunk seed ${chunkSeed}\n${String(error)}\n`);
    const cause = (error as { cause?: unknown }).cause;
    if (cause !== undefined) process.stdout.write(`cause: ${String(cause)}\n`);
  }
}
process.stdout.write(`fuzz: properties=${all.length}, runs=${runs} each, seed=${seed}, failed=${failed}\n`);
process.exitCode = failed === 0 ? 0 : 1;
