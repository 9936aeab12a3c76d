/**
 * Collects the responses of one JSON-RPC batch and writes them as one array once every request in
 * it has answered (or was answered with nothing, like an MCP client cancel).
 */
export class Batch {
  private readonly frames: string[] = [];
  private outstanding = 0;
  private sealed = false;

  constructor(private readonly write: (frame: string) => void) {}

  /** One more request of this batch will answer. */
  expect(): void {
    this.outstanding += 1;
  }

  /** A request of this batch answered with `frame`. */
  add(frame: string): void {
    this.frames.push(frame);
    this.outstanding -= 1;
    this.flush();
  }

  /** A request of this batch will not answer. */
  skip(): void {
    this.outstanding -= 1;
    this.flush();
  }

  /** Every item of the batch has been dispatched. */
  seal(): void {
    this.sealed = true;
    this.flush();
  }

  private flush(): void {
    if (!this.sealed || this.outstanding > 0) return;
    this.sealed = false;
    if (this.frames.length > 0) this.write(`[${this.frames.join(',')}]`);
  }
}
