import { describe, expect, it } from 'vitest';
import { createSupervisor, type Limits, type RequestContext } from '../../src/index.js';
import {
  connectMemoryClient,
  createSessionTestModel,
  ModelCheckError,
  type SessionServerFactory,
  type SessionTestClient,
  type TestGate,
} from '../../src/testing/index.js';

const slowUsing = (gate: TestGate) => async (_params: unknown, ctx: RequestContext) => {
  await gate.hold(ctx);
  return { finished: ctx.requestId };
};

const goodServer =
  (limits: Partial<Limits> = {}): SessionServerFactory =>
  ({ clock, gate }) => ({
    supervisor: createSupervisor({ clock, limits, methods: { slow: slowUsing(gate), ping: () => ({}) } }),
    slowMethod: 'slow',
  });

/** A good server whose test client is wrapped: the broken client is what the model must catch. */
const serverWithClient =
  (wrap: (client: SessionTestClient) => SessionTestClient): SessionServerFactory =>
  ({ clock, gate }) => {
    const supervisor = createSupervisor({ clock, methods: { slow: slowUsing(gate) } });
    return { supervisor, slowMethod: 'slow', connect: () => wrap(connectMemoryClient(supervisor)) };
  };

describe('createSessionTestModel', () => {
  const model = createSessionTestModel(goodServer({ requestTimeoutMs: 30_000 }), {
    cancelReasons: ['client', 'transport-closed', 'drain-timeout', 'request-timeout', 'shutdown', 'session-failed'],
  });

  it('covers every state and every transition of the connection and handler machines', () => {
    expect(model.coverage.all.length).toBeGreaterThan(10);
    expect(model.coverage.missing).toEqual([]);
    expect(model.coverage.all).toContain('connection:draining --timer.drainDeadline--> closed');
    expect(model.coverage.all).toContain('handler:cancelling --timer.cancelGrace--> done');
  });

  it('generates one path per way through each machine, with distinct descriptions', () => {
    expect(model.connectionPaths).toHaveLength(10);
    // running → done twice, and per reason: cancelling → done three ways.
    expect(model.handlerPaths).toHaveLength(2 + 6 * 3);
    expect(new Set(model.paths.map((p) => p.description)).size).toBe(model.paths.length);
  });

  for (const path of model.paths) {
    it(`passes against a correct server: ${path.description}`, async () => {
      await expect(path.run()).resolves.toBeUndefined();
    });
  }

  it('reports the half-close transitions as missing when the transport has no half-close', () => {
    const noHalfClose = createSessionTestModel(goodServer(), { halfClose: false });
    expect(noHalfClose.coverage.missing).toEqual(['connection:connected --transport.inputEnded--> draining']);
    expect(noHalfClose.paths.every((p) => !p.events.includes('transport.inputEnded'))).toBe(true);
  });

  it('fails a path whose slow method stops waiting when its signal aborts', async () => {
    const eager: SessionServerFactory = ({ clock, gate }) => ({
      supervisor: createSupervisor({
        clock,
        methods: {
          slow: (_params: unknown, ctx: RequestContext) =>
            new Promise((resolve, reject) => {
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
              gate.hold(ctx).then(() => resolve('ok'), reject);
            }),
        },
      }),
      slowMethod: 'slow',
    });
    const path = createSessionTestModel(eager, { settleTimeoutMs: 200 }).handlerPaths.find((p) => p.events.join() === 'handler.cancel(client),timer.cancelGrace');
    expect(path).toBeDefined();
    const failure = await path!.run().then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelCheckError);
    expect(String(failure)).toMatch(/expected handler 'cancelling'.*it is 'done'/);
  });

  it('fails a path when the client saw a frame written after the output closed (invariant 1)', async () => {
    const leaky = serverWithClient((client) => {
      let vanished = false;
      return {
        send: (m: unknown) => client.send(m),
        received: client.received,
        vanish: () => {
          vanished = true;
          client.vanish();
        },
        get writesAfterClose() {
          return vanished ? 1 : 0;
        },
      };
    });
    const path = createSessionTestModel(leaky, { halfClose: false }).connectionPaths.find((p) => p.events.join() === 'transport.closed');
    const failure = await path!.run().then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/invariant 1 broken/);
  });

  it('fails a path when a new request to a draining session gets no error answer (invariant 6)', async () => {
    // A client that swallows the refusal: the model sees no error answer for its probe.
    const admitsWhileDraining = serverWithClient((client) => ({
      ...client,
      send: (m: unknown) => client.send(m),
      received: client.received.filter(() => false),
    }));
    const path = createSessionTestModel(admitsWhileDraining, { settleTimeoutMs: 200 }).connectionPaths.find(
      (p) => p.events.join() === 'session.drain,handlers.idle',
    );
    const failure = await path!.run().then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/request probe-1 refused while draining; no answer yet/);
  });

  it('fails a path when the handler sees a signal that is not aborted on cancel (invariant 2)', async () => {
    const detached: SessionServerFactory = ({ clock, gate }) => ({
      supervisor: createSupervisor({
        clock,
        methods: {
          slow: async (_params: unknown, ctx: RequestContext) => {
            await gate.hold({ requestId: ctx.requestId, session: ctx.session, signal: new AbortController().signal });
            return 'ok';
          },
        },
      }),
      slowMethod: 'slow',
    });
    const path = createSessionTestModel(detached).handlerPaths.find((p) => p.events.join() === 'handler.cancel(shutdown),handler.resolve');
    const failure = await path!.run().then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/invariant 2 broken: the signal is not aborted but the request was cancelled/);
  });

  it('explains that request-timeout needs a request timeout on the server', async () => {
    const path = createSessionTestModel(goodServer(), { cancelReasons: ['request-timeout'] }).handlerPaths.find((p) =>
      p.events.includes('handler.cancel(request-timeout)'),
    );
    const failure = await path!.run().then(() => undefined, (error: unknown) => error);
    expect(String(failure)).toMatch(/needs limits.requestTimeoutMs > 0/);
  });
});
