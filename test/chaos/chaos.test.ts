import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.js';

// A short chaos run against the built CLI (`npm test` builds it first): every fault, a SIGTERM under
// load and a fresh server, then the leak check. `npm run chaos` runs the long one.
describe('chaos (short run)', () => {
  it('survives every fault with nothing lost, duplicated, leaked or crashed', async () => {
    const report = await runChaos({ sessions: 240, concurrency: 60, seed: 20_261_125 });
    if (!report.ok) console.error([report.line, ...report.unexpected, ...report.problems.slice(0, 40)].join('\n'));
    expect(report.unexpected).toEqual([]);
    expect(report).toMatchObject({
      crashes: 0,
      unhandled: 0,
      writesAfterClose: 0,
      duplicateResponses: 0,
      responsesAfterCancel: 0,
      responsesAfterClose: 0,
      crossWired: 0,
      unsettled: 0,
      leakedActors: 0,
    });
    expect(report.leakedTimers).toBeLessThanOrEqual(0);
    expect(report.leakedSockets).toBeLessThanOrEqual(0);
    expect(report.heapGrowthPct).toBeLessThanOrEqual(5);
    // Every fault was drawn at least once.
    expect(Object.keys(report.faults).sort()).toEqual(
      [
        'cancels', 'closeMidRequest', 'duplicateIds',
        'httpAbortMidSse', 'httpBadHeaders', 'httpDeleteMidRequest', 'httpHalfBody', 'httpModernAbort', 'httpOversize', 'httpSessionStorm', 'httpSlowHeaders', 'httpStaleEventId',
        'invalidUtf8', 'longSleep', 'malformedJson', 'normal', 'oversize', 'pingFlood', 'resetMidRequest', 'slowDrip', 'slowReader', 'stalledReader', 'stdinEof', 'stubbornSleep',
      ],
    );
    expect(report.ok).toBe(true);
  }, 120_000);
});
