// shutdownOnSignals in this process, with a real SIGUSR2 and the memory transport: the order of the
// steps, the forced stop, the disposer, and listeners that fail.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryTransportPair,
  createSupervisor,
  ErrorCode,
  FORCED_EXIT_CODE,
  shutdownOnSignals,
  type ShutdownListener,
  type Supervisor,
  type SupervisorStats,
} from '../src/index.js';
import type { SupervisorPhase } from '../machines/index.js';

const SIGNAL = 'SIGUSR2';
const disposers: Array<() => void> = [];

afterEach(() => {
  for (const dispose of disposers.splice(0)) dispose();
});

/** Send the signal to this process and wait until its handlers (registered before this call) ran. */
function signal(): Promise<void> {
  const delivered = new Promise<void>((resolve) => process.once(SIGNAL, () => resolve()));
  process.kill(process.pid, SIGNAL);
  return delivered;
}

/** Resolves once the supervisor is in `target` (at once when it already is). */
function phase(supervisor: Supervisor, target: SupervisorPhase): Promise<void> {
  if (supervisor.state === target) return Promise.resolve();
  return new Promise((resolve) => {
    const off = supervisor.on('supervisor.phase', ({ to }) => {
      if (to !== target) return;
      off();
      resolve();
    });
  });
}

function deferred(): { promise: Promise<unknown>; resolve(value: unknown): void } {
  let resolve!: (value: unknown) => void;
  const promise = new Promise<unknown>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function setup(order: string[]) {
  const gate = deferred();
  const supervisor = createSupervisor({
    limits: { drainTimeoutMs: 60_000, cancelGraceMs: 60_000 },
    methods: {
      wait: () => gate.promise,
      stubborn: () => new Promise(() => {}),
      echo: (params) => params,
    },
  });
  const listener: ShutdownListener = {
    stopAccepting: () => order.push(`stopAccepting:${supervisor.state}`),
    close: async () => {
      order.push(`close:${supervisor.state}`);
    },
  };
  const exited = deferred();
  const stopped: SupervisorStats[] = [];
  const dispose = shutdownOnSignals(supervisor, {
    signals: [SIGNAL],
    listeners: [listener],
    exit: (code) => {
      order.push(`exit:${code}`);
      exited.resolve(code);
    },
    onStopped: (stats) => {
      order.push('stopped');
      stopped.push(stats);
    },
  });
  disposers.push(dispose);
  return { supervisor, gate, exited, stopped, dispose };
}

describe('shutdownOnSignals', () => {
  it('stops accepting, drains, then closes the listeners, reports the stats and exits 0', async () => {
    const order: string[] = [];
    const { supervisor, gate, exited, stopped } = setup(order);
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'wait' });

    await signal();
    // Unready at once, still accepting until the shutdown delay (0) has passed.
    expect(order).toEqual([]);
    expect(supervisor.state).toBe('unready');
    expect(supervisor.ready).toBe(false);
    expect(supervisor.accepting).toBe(true);
    await phase(supervisor, 'draining');
    // The listeners are told on the transition out of `unready` (an entry action of `draining`).
    expect(order).toEqual(['stopAccepting:unready']);
    expect(supervisor.accepting).toBe(false);
    peer.send({ jsonrpc: '2.0', id: 2, method: 'echo', params: [] });

    gate.resolve('done');
    expect(await exited.promise).toBe(0);
    expect(order).toEqual(['stopAccepting:unready', 'close:closing', 'stopped', 'exit:0']);
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 2, error: { code: ErrorCode.SessionDraining, message: 'Session is draining', data: { state: 'draining', retryAfterMs: 1000 } } },
      { jsonrpc: '2.0', id: 1, result: 'done' },
    ]);
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ state: 'stopped', inFlight: 0, completed: 1, refused: 1, abandoned: 0 });
    expect(transport.writesAfterClose).toBe(0);
  });

  it('forces the stop on a second signal: handlers cancelled with shutdown, exit code 1, stats reported once', async () => {
    const order: string[] = [];
    const { supervisor, exited, stopped } = setup(order);
    const { transport, peer } = createMemoryTransportPair();
    supervisor.attach(transport);
    peer.send({ jsonrpc: '2.0', id: 1, method: 'stubborn' });

    await signal();
    await phase(supervisor, 'draining');
    await signal();
    expect(await exited.promise).toBe(FORCED_EXIT_CODE);
    // Forced at once: the stubborn handler still runs out its cancel grace, so the supervisor is
    // not yet `stopped` (no session left) when the listeners close and the exit is forced.
    expect(supervisor.state).toBe('cancelling');
    expect(order).toEqual(['stopAccepting:unready', 'close:cancelling', 'stopped', `exit:${FORCED_EXIT_CODE}`]);
    expect(peer.received).toEqual([
      { jsonrpc: '2.0', id: 1, error: { code: ErrorCode.RequestCancelled, message: 'Request cancelled', data: { reason: 'shutdown' } } },
    ]);
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.cancelled.shutdown).toBe(1);
    expect(transport.writesAfterClose).toBe(0);
  });

  it('goes on when a listener fails to stop accepting or to close', async () => {
    const supervisor = createSupervisor({ methods: {} });
    const exited = deferred();
    const closed: string[] = [];
    disposers.push(
      shutdownOnSignals(supervisor, {
        signals: [SIGNAL],
        listeners: [
          {
            stopAccepting: () => {
              throw new Error('cannot stop accepting');
            },
            close: () => Promise.reject(new Error('cannot close')),
          },
          {
            stopAccepting: () => {},
            close: async () => {
              closed.push('second');
            },
          },
        ],
        exit: (code) => exited.resolve(code),
        onStopped: () => {
          throw new Error('onStopped threw');
        },
      }),
    );
    await signal();
    expect(await exited.promise).toBe(0);
    expect(closed).toEqual(['second']);
    expect(supervisor.state).toBe('stopped');
  });

  it('keeps the exit code when the exit callback throws', async () => {
    const supervisor = createSupervisor({ methods: {} });
    const before = process.exitCode;
    const called = deferred();
    disposers.push(
      shutdownOnSignals(supervisor, {
        signals: [SIGNAL],
        exit: (code) => {
          called.resolve(code);
          throw new Error('exit threw');
        },
      }),
    );
    try {
      await signal();
      expect(await called.promise).toBe(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(process.exitCode).toBe(0);
    } finally {
      process.exitCode = before;
    }
  });

  it('returns a function that removes its signal handlers', () => {
    const before = process.listenerCount('SIGTERM') + process.listenerCount('SIGINT');
    const supervisor = createSupervisor({ methods: {} });
    const dispose = shutdownOnSignals(supervisor, { exit: () => {} });
    expect(process.listenerCount('SIGTERM') + process.listenerCount('SIGINT')).toBe(before + 2);
    dispose();
    expect(process.listenerCount('SIGTERM') + process.listenerCount('SIGINT')).toBe(before);
    expect(supervisor.state).toBe('running');
  });
});

describe('supervisor.accepting', () => {
  it('agrees with the machine’s accepting tag in every phase of every way down', async () => {
    const ways: Array<(s: Supervisor) => unknown> = [
      (s) => s.shutdown({ delayMs: 20, drainMs: 20 }),
      (s) => s.drain(),
      (s) => s.close(),
    ];
    for (const way of ways) {
      const supervisor = createSupervisor({ methods: { wait: () => new Promise(() => {}) }, limits: { cancelGraceMs: 20 } });
      const { transport, peer } = createMemoryTransportPair();
      supervisor.attach(transport);
      peer.send({ jsonrpc: '2.0', id: 1, method: 'wait' });
      const seen: Array<[string, boolean, boolean]> = [];
      const check = (): void => {
        seen.push([supervisor.state, supervisor.accepting, supervisor.actor.getSnapshot().hasTag('accepting')]);
      };
      check();
      supervisor.on('supervisor.phase', check);
      void way(supervisor);
      check();
      await supervisor.stopped;
      check();
      for (const [state, accepting, tag] of seen) expect({ state, accepting }).toEqual({ state, accepting: tag });
      expect(seen.map(([state]) => state)).toContain('stopped');
    }
  });
});
