import { it } from '@fast-check/vitest';
import { describe } from 'vitest';
import { DEFAULT_SEED } from './property.js';
import { sessionProperties } from './session-properties.js';

// A live supervisor over the memory transport with a test clock; the fast-check scheduler orders handler
// completions against the peer's and the server's actions. `npm run fuzz -- --runs N` runs it longer.
describe('session fuzz', () => {
  for (const def of sessionProperties) {
    it.prop(def.arbitraries, { numRuns: def.runs, seed: DEFAULT_SEED })(def.name, async (...args: unknown[]) => {
      await def.predicate(...args);
    });
  }
});
