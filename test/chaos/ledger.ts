// Each chaos client's own ledger: every request id gets at most one response, none after the server
// has read the client's cancel of it, none after the connection closed, and every request the server
// could see is answered before the server closes the connection.
//
// "After the server has read the cancel" is exact, not a guess about timing: right after a cancel the
// client sends a fence (a `ping` request). The server reads frames and writes answers in order, so once
// the fence's answer is in, the server had processed the cancel; an answer to the cancelled request
// that comes later was written after the cancel, which the dialect forbids. An answer that comes before
// the fence raced the cancel fairly (the handler finished first) and is allowed.

/** Figures every ledger adds to. */
export interface LedgerFigures {
  requests: number;
  duplicateResponses: number;
  responsesAfterCancel: number;
  responsesAfterClose: number;
  unsolicited: number;
  crossWired: number;
  unsettled: number;
  /** What went wrong, one line each (the counts above say how often). */
  problems: string[];
}

/** Empty figures. */
export function emptyFigures(): LedgerFigures {
  return {
    requests: 0,
    duplicateResponses: 0,
    responsesAfterCancel: 0,
    responsesAfterClose: 0,
    unsolicited: 0,
    crossWired: 0,
    unsettled: 0,
    problems: [],
  };
}

type Id = string | number;

interface Entry {
  id: Id;
  method: string;
  state: 'pending' | 'answered' | 'cancelled';
  /** The server has read the cancel (its fence was answered): any later response is a violation. */
  strictCancel: boolean;
  /** Requests whose cancel this request fences. */
  fenceFor: Id[] | undefined;
  /** Checks the answer (crossed wires give another request's answer). */
  check: ((message: Response) => boolean) | undefined;
  sentAt: number;
  resolve: (message: Response | undefined) => void;
  answer: Promise<Response | undefined>;
}

/** A JSON-RPC response as the client reads it. */
export interface Response {
  jsonrpc: '2.0';
  id: Id | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

const keyOf = (id: Id): string => `${typeof id}:${String(id)}`;

/** The ledger of one client connection. */
export class Ledger {
  private readonly entries = new Map<string, Entry>();
  /** Errors with id null (parse errors, invalid requests, duplicate ids), in order. */
  readonly nullErrors: number[] = [];
  readonly problems: string[];
  private closed = false;

  constructor(
    private readonly figures: LedgerFigures,
    readonly label: string,
  ) {
    this.problems = figures.problems;
  }

  /** Record a request before it is written. Returns a promise of its answer (`undefined` if none came). */
  sent(id: Id, method: string, check?: (message: Response) => boolean): Promise<Response | undefined> {
    const key = keyOf(id);
    if (this.entries.get(key)?.state === 'pending') {
      // A deliberate duplicate of an in-flight id: the server must refuse it with id null.
      return Promise.resolve(undefined);
    }
    this.figures.requests += 1;
    let resolve!: (message: Response | undefined) => void;
    const answer = new Promise<Response | undefined>((r) => {
      resolve = r;
    });
    this.entries.set(key, { id, method, state: 'pending', strictCancel: false, fenceFor: undefined, check, sentAt: performance.now(), resolve, answer });
    return answer;
  }

  /** The client cancelled `id` (sent right before the fence request `fence`). */
  cancelled(id: Id): void {
    const entry = this.entries.get(keyOf(id));
    if (entry === undefined || entry.state !== 'pending') return;
    entry.state = 'cancelled';
    entry.resolve(undefined);
  }

  /** `fence` was sent right after the cancels of `ids`: its answer proves the server read them. */
  fence(fence: Id, ids: Id[]): void {
    const entry = this.entries.get(keyOf(fence));
    if (entry !== undefined) entry.fenceFor = ids;
  }

  /** Whether `id` is still waiting for its answer. */
  pending(id: Id): boolean {
    return this.entries.get(keyOf(id))?.state === 'pending';
  }

  /** A message arrived. */
  received(message: Response): void {
    if (this.closed) {
      this.figures.responsesAfterClose += 1;
      this.problems.push(`${this.label}: message after close ${JSON.stringify(message).slice(0, 200)}`);
      return;
    }
    if (message.id === null) {
      this.nullErrors.push(message.error?.code ?? 0);
      return;
    }
    const entry = this.entries.get(keyOf(message.id));
    if (entry === undefined) {
      this.figures.unsolicited += 1;
      this.problems.push(`${this.label}: response to an id never sent: ${JSON.stringify(message).slice(0, 200)}`);
      return;
    }
    switch (entry.state) {
      case 'answered':
        this.figures.duplicateResponses += 1;
        this.problems.push(`${this.label}: second response to ${keyOf(entry.id)}`);
        return;
      case 'cancelled':
        if (entry.strictCancel) {
          this.figures.responsesAfterCancel += 1;
          this.problems.push(`${this.label}: response to ${keyOf(entry.id)} after its cancel: ${JSON.stringify(message).slice(0, 200)}`);
        }
        entry.state = 'answered';
        return;
      case 'pending':
        entry.state = 'answered';
        for (const id of entry.fenceFor ?? []) {
          const cancelled = this.entries.get(keyOf(id));
          if (cancelled?.state === 'cancelled') cancelled.strictCancel = true;
        }
        if (entry.check !== undefined && !entry.check(message)) {
          this.figures.crossWired += 1;
          this.problems.push(`${this.label}: wrong answer to ${entry.method} ${keyOf(entry.id)}: ${JSON.stringify(message).slice(0, 200)}`);
        }
        entry.resolve(message);
    }
  }

  /**
   * The connection closed. Requests still pending are unsettled unless `exempt` says the server could
   * not answer them (the client closed or reset first, the server was shut down after they were sent,
   * or the output was closed for overload).
   */
  close(exempt: (sentAt: number) => boolean, detail = ''): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.entries.values()) {
      if (entry.state !== 'pending') continue;
      if (!exempt(entry.sentAt)) {
        this.figures.unsettled += 1;
        this.problems.push(`${this.label}: ${entry.method} ${keyOf(entry.id)} unanswered when the server closed${detail}, sent ${(performance.now() - entry.sentAt).toFixed(0)} ms before`);
      }
      entry.resolve(undefined);
    }
  }

  /** Requests still waiting. */
  outstanding(): number {
    let n = 0;
    for (const entry of this.entries.values()) if (entry.state === 'pending') n += 1;
    return n;
  }
}
