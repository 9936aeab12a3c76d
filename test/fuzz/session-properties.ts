// The session property: any sequence of peer and server actions, with handler completions interleaved by
// the fast-check scheduler, keeps the six invariants of the design. Shared by the vitest suite and the
// long runner.
import fc from 'fast-check';
import type { PropertyDefinition } from './property.js';
import { sessionCommands, type SessionCommand, type SessionModel } from './session-commands.js';
import { SessionRig, type RigConfig } from './session-rig.js';

const rigConfig: fc.Arbitrary<RigConfig> = fc.record({
  dialect: fc.constantFrom('jsonrpc', 'mcp' as const),
  requestTimeoutMs: fc.constantFrom(0, 0, 30),
  maxInFlight: fc.constantFrom(2, 4, 1024),
});

/** How the run ends, after the commands: every session must still finish cleanly. */
const ending = fc.constantFrom('vanish', 'end-input', 'drain', 'close', 'supervisor-drain', 'supervisor-close' as const);

type Ending = 'vanish' | 'end-input' | 'drain' | 'close' | 'supervisor-drain' | 'supervisor-close';

/** Run one fuzzed session; throws with every violation found. */
export async function runSession(
  scheduler: fc.Scheduler,
  config: RigConfig,
  commands: Iterable<SessionCommand>,
  end: Ending,
): Promise<void> {
  const rig = new SessionRig(config, scheduler);
  try {
    await fc.scheduledModelRun(scheduler, () => ({ model: { phase: 'open', nextId: 1 } as SessionModel, real: rig }), commands);
    switch (end) {
      case 'vanish':
        rig.vanish();
        break;
      case 'end-input':
        rig.endInput();
        break;
      case 'drain':
        rig.session.drain();
        break;
      case 'close':
        rig.session.close('shutdown');
        break;
      case 'supervisor-drain':
        void rig.supervisor.drain();
        break;
      case 'supervisor-close':
        void rig.supervisor.close();
        break;
    }
    await rig.settle();
    const violations = rig.finalCheck();
    if (violations.length > 0) throw new Error(`invariants broken:\n${violations.join('\n')}`);
    await rig.supervisor.close();
  } finally {
    rig.dispose();
  }
}

/** The session properties, each with the number of runs `npm test` gives it. */
export const sessionProperties: PropertyDefinition[] = [
  {
    name: 'the six invariants hold in every interleaving of requests, completions, cancels, input end and close',
    runs: 300,
    async: true,
    arbitraries: [fc.scheduler(), rigConfig, fc.commands(sessionCommands, { maxCommands: 60, size: 'medium' }), ending],
    predicate: (s, config, cmds, end) =>
      runSession(
        s as fc.Scheduler,
        config as RigConfig,
        cmds as Iterable<SessionCommand>,
        end as Ending,
      ),
  },
];
