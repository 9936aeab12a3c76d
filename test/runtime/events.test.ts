import { describe, expect, it } from 'vitest';
import { Emitter, type SupervisorEvents } from '../../src/runtime/events.js';
import { flush } from '../helpers/deferred.js';
import { createCheckedSupervisor } from '../helpers/invariants.js';

describe('supervisor events for observers', () => {
  it('emits request.started with the validated params and the transport kind', async () => {
    const h = createCheckedSupervisor({ methods: { echo: (params) => params } });
    const started: SupervisorEvents['request.started'][] = [];
    h.supervisor.on('request.started', (event) => started.push(event));
    const { peer, session } = h.connect();
    peer.send({ jsonrpc: '2.0', id: 7, method: 'echo', params: { _meta: { traceparent: 'x' } } });
    await flush();
    expect(started).toEqual([
      { sessionId: session.id, requestId: 7, method: 'echo', transport: 'memory', params: { _meta: { traceparent: 'x' } } },
    ]);
    await h.supervisor.close();
    h.checker.assertFinal();
  });

  it('emits session.draining with its reason when the input ends', async () => {
    const h = createCheckedSupervisor({ methods: { echo: (params) => params } });
    const draining: SupervisorEvents['session.draining'][] = [];
    h.supervisor.on('session.draining', (event) => draining.push(event));
    const { peer, session } = h.connect();
    peer.endInput();
    await session.closed;
    expect(draining).toEqual([{ sessionId: session.id, reason: 'input-ended' }]);
    await h.supervisor.close();
    h.checker.assertFinal();
  });
});

describe('the supervisor emitter', () => {
  const event = { sessionId: 's1', transport: 'memory' };

  it('delivers to every listener once, in the order added; adding the same listener twice keeps one', () => {
    const emitter = new Emitter(() => {});
    const seen: string[] = [];
    const a = (): void => void seen.push('a');
    const b = (): void => void seen.push('b');
    emitter.on('session.opened', a);
    emitter.on('session.opened', b);
    emitter.on('session.opened', a);
    emitter.emit('session.opened', event);
    expect(seen).toEqual(['a', 'b']);
    expect(emitter.has('session.opened')).toBe(true);
    expect(emitter.has('session.closed')).toBe(false);
  });

  it('applies a listener added or removed during an emit from the next emit on', () => {
    const emitter = new Emitter(() => {});
    const seen: string[] = [];
    const late = (): void => void seen.push('late');
    let offB: () => void = () => {};
    emitter.on('session.opened', () => {
      seen.push('a');
      offB();
      emitter.on('session.opened', late);
    });
    offB = emitter.on('session.opened', () => void seen.push('b'));
    emitter.emit('session.opened', event);
    expect(seen).toEqual(['a', 'b']);
    seen.length = 0;
    emitter.emit('session.opened', event);
    expect(seen).toEqual(['a', 'late']);
  });

  it('unsubscribes once (a second call changes nothing) and forgets a type with no listeners', () => {
    const emitter = new Emitter(() => {});
    const seen: string[] = [];
    const offA = emitter.on('session.opened', () => void seen.push('a'));
    const offB = emitter.on('session.opened', () => void seen.push('b'));
    offA();
    offA();
    emitter.emit('session.opened', event);
    expect(seen).toEqual(['b']);
    offB();
    expect(emitter.has('session.opened')).toBe(false);
    emitter.emit('session.opened', event);
    expect(seen).toEqual(['b']);
  });

  it('reports a throwing listener and still delivers to the rest', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter((error) => errors.push(error));
    const seen: string[] = [];
    emitter.on('session.opened', () => {
      throw new Error('boom');
    });
    emitter.on('session.opened', () => void seen.push('after'));
    emitter.emit('session.opened', event);
    expect(seen).toEqual(['after']);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });
});
