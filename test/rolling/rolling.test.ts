// The short form of `npm run rolling`: HAProxy and 3 real instances, clients through HAProxy while
// every instance is restarted once. Needs Debian's `haproxy` (CI installs it).
import { describe, expect, it } from 'vitest';
import { haproxyAvailable, runRolling } from '../../scripts/rolling.js';

const haproxy = haproxyAvailable();
if (!haproxy) process.stderr.write('test/rolling: haproxy is not installed (apt-get install -y haproxy); the rolling restart test does not run\n');

describe('rolling restart behind HAProxy', () => {
  it.runIf(haproxy)(
    'loses nothing silently: every request answered, refused before admission or cancelled with a reason; every instance exits 0 in budget',
    async () => {
      const lines: string[] = [];
      const ledger = await runRolling({ modernClients: 2, legacyClients: 2, rounds: 1, settleMs: 750, log: (l) => lines.push(l) });
      const report = ledger.render();
      expect(ledger.failures(), report).toEqual([]);
      expect(ledger.counts.lost, report).toBe(0);
      expect(ledger.crashes, report).toBe(0);
      // Three restarts during the run and the three final stops.
      expect(ledger.exits.map((e) => e.code)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(ledger.counts.answered).toBeGreaterThan(0);
      for (const story of ledger.legacy) {
        expect(story.finished, report).toBe(true);
        expect(story.reinitialized, report).toBe(story.met404);
      }
      expect(report).toMatch(/throughput +[0-9.]+ answered\/s before, lowest [0-9.]+\/s during the restarts \(dip -?[0-9.]+ %\)/);
    },
    120_000,
  );
});
