import { describe, expect, it } from 'vitest';
import type { SupervisorEvents } from '../../src/runtime/events.js';
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
