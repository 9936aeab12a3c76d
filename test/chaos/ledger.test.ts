import { describe, expect, it } from 'vitest';
import { emptyFigures, Ledger, type Response } from './ledger.js';

const result = (id: string | number): Response => ({ jsonrpc: '2.0', id, result: {} });

/** Request `a` sent and cancelled, then a `ping` fence that answers once the cancel was read. */
function cancelledBehindFence(): { figures: ReturnType<typeof emptyFigures>; ledger: Ledger } {
  const figures = emptyFigures();
  const ledger = new Ledger(figures, 't');
  void ledger.sent('a', 'tools/call');
  ledger.cancelled('a');
  void ledger.sent('fence', 'ping');
  ledger.fence('fence', ['a']);
  return { figures, ledger };
}

describe('chaos ledger', () => {
  it('counts an answer written after the server read the cancel (its fence answered first)', () => {
    const { figures, ledger } = cancelledBehindFence();
    ledger.received(result('fence'));
    ledger.received(result('a'));
    expect(figures.responsesAfterCancel).toBe(1);
  });

  it('allows an answer that raced the cancel (it came before the fence)', () => {
    const { figures, ledger } = cancelledBehindFence();
    ledger.received(result('a'));
    ledger.received(result('fence'));
    expect(figures.responsesAfterCancel).toBe(0);
    ledger.received(result('a'));
    expect(figures.duplicateResponses).toBe(1);
  });

  it('counts duplicates, answers to ids never sent and wrong answers', () => {
    const figures = emptyFigures();
    const ledger = new Ledger(figures, 't');
    void ledger.sent(1, 'echo', (r) => r.result === 'one');
    ledger.received({ jsonrpc: '2.0', id: 1, result: 'two' });
    ledger.received(result(1));
    ledger.received(result(2));
    expect(figures).toMatchObject({ crossWired: 1, duplicateResponses: 1, unsolicited: 1, requests: 1 });
  });

  it('counts requests left unanswered at a close unless exempt, and anything after the close', () => {
    const figures = emptyFigures();
    const ledger = new Ledger(figures, 't');
    void ledger.sent(1, 'a');
    void ledger.sent(2, 'b');
    ledger.received({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    let calls = 0;
    ledger.close(() => calls++ === 0);
    expect(figures.unsettled).toBe(1);
    expect(ledger.nullErrors).toEqual([-32700]);
    ledger.received(result(1));
    expect(figures.responsesAfterClose).toBe(1);
  });
});
