// One property definition, shared by the vitest suites (a bounded, seeded number of runs) and the long
// runner (`npm run fuzz -- --runs N`).
import fc from 'fast-check';

/** A named property: arbitraries and a predicate that throws (or rejects) when the property breaks. */
export interface PropertyDefinition {
  readonly name: string;
  /** Runs in `npm test`. */
  readonly runs: number;
  readonly arbitraries: fc.Arbitrary<unknown>[];
  readonly predicate: (...args: any[]) => void | Promise<void>;
  /** The predicate returns a promise. */
  readonly async?: boolean;
}

/** The seed `npm test` uses (override with FUZZ_SEED to explore, the failure report prints the seed). */
export const DEFAULT_SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_125);

/** Build the fast-check property of a definition. */
export function toProperty(def: PropertyDefinition): fc.IRawProperty<unknown[]> {
  const arbs = def.arbitraries as [fc.Arbitrary<unknown>, ...fc.Arbitrary<unknown>[]];
  if (def.async === true) {
    return fc.asyncProperty(...arbs, async (...args: unknown[]) => {
      await def.predicate(...args);
    }) as unknown as fc.IRawProperty<unknown[]>;
  }
  return fc.property(...arbs, (...args: unknown[]) => {
    def.predicate(...args);
  }) as unknown as fc.IRawProperty<unknown[]>;
}

/** Check a property for `runs` runs from `seed`; throws fast-check's report (with the seed and path) on failure. */
export async function checkProperty(def: PropertyDefinition, runs: number, seed: number = DEFAULT_SEED): Promise<void> {
  await fc.assert(toProperty(def), { numRuns: runs, seed, endOnFailure: false });
}
