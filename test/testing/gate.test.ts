import { describe, expect, it } from 'vitest';
import { createTestGate, GateReleasedError } from '../../src/testing/index.js';

const ctx = (sessionId: string, requestId: string | number) => ({ requestId, session: { id: sessionId } as never });

describe('createTestGate', () => {
  it('holds a request until it is released with a result or an error', async () => {
    const gate = createTestGate();
    const ok = gate.hold(ctx('s1', 1));
    const bad = gate.hold(ctx('s1', 2));
    expect(gate.size).toBe(2);
    expect(gate.release('s1', 1, 'result')).toBe(true);
    expect(gate.release('s1', 2, 'error')).toBe(true);
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toBeInstanceOf(GateReleasedError);
    expect(gate.size).toBe(0);
  });

  it('keys requests by session and by id type: s1/1, s2/1 and s1/"1" are three requests', () => {
    const gate = createTestGate();
    void gate.hold(ctx('s1', 1));
    void gate.hold(ctx('s2', 1));
    void gate.hold(ctx('s1', '1'));
    expect(gate.size).toBe(3);
    expect(gate.isHeld('s1', '1')).toBe(true);
    expect(gate.release('s1', 1, 'result')).toBe(true);
    expect(gate.isHeld('s1', 1)).toBe(false);
    expect(gate.isHeld('s2', 1)).toBe(true);
    expect(gate.releaseAll('result')).toBe(2);
  });

  it('answers false for a request that is not held, and releases each request once', async () => {
    const gate = createTestGate();
    expect(gate.release('s1', 9, 'result')).toBe(false);
    const held = gate.hold(ctx('s1', 9));
    expect(gate.release('s1', 9, 'result')).toBe(true);
    expect(gate.release('s1', 9, 'error')).toBe(false);
    await expect(held).resolves.toBeUndefined();
  });
});
