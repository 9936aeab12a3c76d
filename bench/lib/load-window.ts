import { performance } from 'node:perf_hooks';
import { isEcho } from './messages.js';
import { processesCpuMs } from './proc-cpu.js';
import { LatencyRecorder } from './stats.js';

/** Request ids are mapped into a ring of send times. */
export const RING = 4096;

/**
 * The measured window of a closed-loop load: warm up, measure, stop sending, wait (at most 10 s) for
 * the last answers. Counts errors (an error answer, a missing id, or a first answer that is not the
 * echo) and records the latency of the answers that arrive inside the window. Shared by the ws and
 * stdio load clients so that both measure in exactly the same way.
 */
export class LoadWindow {
  phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  readonly recorder = new LatencyRecorder();
  errors = 0;
  private outstanding = 0;
  private checked = false;
  private resolveDrained: () => void = () => {};

  /** A request went out. */
  sent(): void {
    this.outstanding += 1;
  }

  /** An answer came in, `sentAt` being its request's send time; true while the loop should send on. */
  answered(message: { id?: unknown; error?: unknown; result?: unknown }, sentAt: number | undefined, now: number): boolean {
    this.outstanding -= 1;
    if (message.error !== undefined || typeof message.id !== 'number' || (!this.checked && !isEcho(message))) this.errors += 1;
    this.checked = true;
    if (this.phase === 'measure' && sentAt !== undefined) this.recorder.add(now - sentAt);
    if (this.phase !== 'stop') return true;
    if (this.outstanding === 0) this.resolveDrained();
    return false;
  }

  /**
   * Run warm-up and measurement; returns the window's length, the CPU time of `pid` (or of all
   * those pids together) within it, and this process's own (the load client's).
   */
  async run(
    timing: { warmupMs: number; measureMs: number },
    pid: number | readonly number[] | undefined,
  ): Promise<{ windowMs: number; cpuMs: number | undefined; clientCpuMs: number }> {
    const pids = pid === undefined ? undefined : typeof pid === 'number' ? [pid] : pid;
    const cpuOf = (): number | undefined => (pids === undefined ? undefined : processesCpuMs(pids));
    await new Promise((resolve) => setTimeout(resolve, timing.warmupMs));
    this.phase = 'measure';
    const cpu0 = cpuOf();
    const client0 = process.cpuUsage();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, timing.measureMs));
    this.phase = 'stop';
    const windowMs = performance.now() - start;
    const cpu1 = cpuOf();
    const client = process.cpuUsage(client0);
    await Promise.race([
      new Promise<void>((resolve) => {
        this.resolveDrained = resolve;
        if (this.outstanding === 0) resolve();
      }),
      new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
    return { windowMs, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, clientCpuMs: (client.user + client.system) / 1000 };
  }
}
