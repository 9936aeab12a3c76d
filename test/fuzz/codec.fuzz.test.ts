import { it } from '@fast-check/vitest';
import { describe } from 'vitest';
import { codecProperties } from './codec-properties.js';
import { DEFAULT_SEED } from './property.js';

// Each property runs a bounded, seeded number of times here; `npm run fuzz -- --runs N` runs the same ones longer.
describe('codec fuzz', () => {
  for (const def of codecProperties) {
    it.prop(def.arbitraries, { numRuns: def.runs, seed: DEFAULT_SEED })(def.name, (...args: unknown[]) => {
      def.predicate(...args);
    });
  }
});
