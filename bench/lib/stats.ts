/** A growable list of latency samples in milliseconds, with percentiles. */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private size = 0;

  /** Record one latency in milliseconds. */
  add(ms: number): void {
    if (this.size === this.samples.length) {
      const next = new Float64Array(this.samples.length * 2);
      next.set(this.samples);
      this.samples = next;
    }
    this.samples[this.size++] = ms;
  }

  get count(): number {
    return this.size;
  }

  /** The p-th percentile (0 < p ≤ 100), nearest rank; `NaN` when empty. */
  percentiles(...ps: number[]): number[] {
    if (this.size === 0) return ps.map(() => Number.NaN);
    const sorted = this.samples.slice(0, this.size).sort();
    return ps.map((p) => {
      const rank = Math.min(this.size - 1, Math.max(0, Math.ceil((p / 100) * this.size) - 1));
      return sorted[rank]!;
    });
  }
}

/** One throughput/latency result row, as the JSON report holds it. */
export interface LoadResult {
  name: string;
  connections: number;
  inFlight: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were not the expected echo (must stay 0). */
  errors: number;
  /**
   * CPU time of the server process per request in µs over the window (user + system). For the
   * in-process scenarios it is the whole process: client and server together.
   */
  cpuUsPerOp?: number;
  /** CPU time of the load client per request in µs over the window (where the client measures itself). */
  clientCpuUsPerOp?: number;
  /** Cores busy with other processes on the machine during the row (shared machines), where measured. */
  otherCores?: number;
}

/** Round to 3 significant decimals for reports. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Build a result row from a recorder and a measured window. */
export function toResult(
  name: string,
  connections: number,
  inFlight: number,
  recorder: LatencyRecorder,
  windowMs: number,
  errors: number,
  cpuMs?: number,
): LoadResult {
  const [p50, p99] = recorder.percentiles(50, 99);
  const cpu = cpuMs === undefined || recorder.count === 0 ? {} : { cpuUsPerOp: round((cpuMs * 1000) / recorder.count, 2) };
  return {
    name,
    connections,
    inFlight,
    opsPerSec: Math.round((recorder.count / windowMs) * 1000),
    p50Ms: round(p50!, 4),
    p99Ms: round(p99!, 4),
    errors,
    ...cpu,
  };
}
