// The commands of the model-based session fuzz: what a peer and the server may do to one session, in
// any order, while the fast-check scheduler decides when each handler finishes.
import fc from 'fast-check';
import type { RequestId } from '../../machines/handler.js';
import { keyOf, RIG_METHODS, type RigMethod, type SessionRig } from './session-rig.js';

/** What the model predicts about the connection. */
export interface SessionModel {
  /** open: connected; draining: input ended or drain asked; closed: output gone or closed by the server. */
  phase: 'open' | 'draining' | 'closed';
  nextId: number;
}

/** A command of the session fuzz. */
export type SessionCommand = fc.AsyncCommand<SessionModel, SessionRig>;
type Cmd = SessionCommand;

const codeOf = (r: { error?: { code: number } } | undefined): number | undefined => r?.error?.code;

/** After every command the real connection state must agree with the model. */
function checkPhase(m: SessionModel, r: SessionRig, what: string): void {
  const state = r.session.state;
  const ok = m.phase === 'open' ? state === 'connected' : m.phase === 'draining' ? state !== 'connected' : state === 'closed';
  r.expect(ok, `after ${what}: model ${m.phase}, session ${state}`);
}

abstract class Base implements Cmd {
  check(_m: Readonly<SessionModel>): boolean {
    return true;
  }
  async run(m: SessionModel, r: SessionRig): Promise<void> {
    this.apply(m, r);
    checkPhase(m, r, this.toString());
    if (r.violations.length > 0) throw new Error(`invariant broken after ${this.toString()}:\n${r.violations.join('\n')}`);
  }
  abstract apply(m: SessionModel, r: SessionRig): void;
  abstract toString(): string;
}

class RequestCmd extends Base {
  constructor(
    readonly method: RigMethod,
    readonly stringId: boolean,
  ) {
    super();
  }
  apply(m: SessionModel, r: SessionRig): void {
    const id: RequestId = this.stringId ? `r${m.nextId}` : m.nextId;
    m.nextId += 1;
    const delivered = r.delivers;
    const state = r.session.state;
    const full = r.session.inFlight >= r.config.maxInFlight;
    const got = r.sendRequest(id, this.method);
    if (!delivered) return r.expect(got.length === 0, `${keyOf(id)} answered though never delivered`);
    const one = got.length === 1 && got[0]!.id === id ? got[0] : undefined;
    if (state === 'draining') return r.expect(codeOf(one) === -32000, `${keyOf(id)} while draining: ${JSON.stringify(got)}`);
    if (full) return r.expect(codeOf(one) === -32002, `${keyOf(id)} over maxInFlight: ${JSON.stringify(got)}`);
    switch (this.method) {
      case 'missing':
        return r.expect(codeOf(one) === -32601, `${keyOf(id)} unknown method: ${JSON.stringify(got)}`);
      case 'sync':
        return r.expect(one !== undefined && 'result' in one, `${keyOf(id)} sync: ${JSON.stringify(got)}`);
      case 'throws':
        return r.expect(codeOf(one) === -32603, `${keyOf(id)} throws: ${JSON.stringify(got)}`);
      default:
        return r.expect(got.length === 0, `${keyOf(id)} answered before its handler finished: ${JSON.stringify(got)}`);
    }
  }
  toString(): string {
    return `request(${this.method}${this.stringId ? ', string id' : ''})`;
  }
}

class DuplicateCmd extends Base {
  constructor(readonly pick: number) {
    super();
  }
  apply(_m: SessionModel, r: SessionRig): void {
    const pending = r.pendingIds();
    if (pending.length === 0) return;
    const id = pending[this.pick % pending.length]!;
    const delivered = r.delivers;
    const got = r.sendRaw(() => r.peer.send({ jsonrpc: '2.0', id, method: 'ok' }));
    if (!delivered) return;
    r.expect(got.length === 1 && got[0]!.id === null && codeOf(got[0]) === -32003, `duplicate ${keyOf(id)}: ${JSON.stringify(got)}`);
    r.expect(r.ledger.get(keyOf(id))?.state === 'pending', `duplicate ${keyOf(id)} disturbed the original`);
  }
  toString(): string {
    return `duplicate(${this.pick})`;
  }
}

class CancelCmd extends Base {
  constructor(
    readonly target: 'pending' | 'finished' | 'unknown' | 'zero',
    readonly pick: number,
  ) {
    super();
  }
  apply(_m: SessionModel, r: SessionRig): void {
    let id: RequestId;
    if (this.target === 'pending' || this.target === 'finished') {
      const ids = this.target === 'pending' ? r.pendingIds() : r.answeredIds();
      if (ids.length === 0) return;
      id = ids[this.pick % ids.length]!;
    } else {
      id = this.target === 'zero' ? 0 : 'no-such-id';
    }
    const wasPending = r.ledger.get(keyOf(id))?.state === 'pending';
    const delivered = r.delivers;
    const got = r.sendCancel(id);
    if (!delivered || !wasPending) return r.expect(got.length === 0, `cancel of ${keyOf(id)} answered: ${JSON.stringify(got)}`);
    if (r.dialect.responseOnCancel('client') === undefined) {
      r.expect(got.length === 0, `cancel of ${keyOf(id)}: an answer the dialect forbids: ${JSON.stringify(got)}`);
    } else {
      r.expect(got.length === 1 && got[0]!.id === id && codeOf(got[0]) === -32800, `cancel of ${keyOf(id)}: ${JSON.stringify(got)}`);
    }
  }
  toString(): string {
    return `cancel(${this.target}, ${this.pick})`;
  }
}

const BAD_FRAMES = {
  parse: { code: -32700, frame: '{"jsonrpc":"2.0","id":1,"method":' },
  invalid: { code: -32600, frame: '{"jsonrpc":"2.0","id":[1],"method":"ok"}' },
  'not-an-object': { code: -32600, frame: '42' },
  'empty-batch': { code: -32600, frame: '[]' },
  batch: { code: -32600, frame: '[{"jsonrpc":"2.0","id":"b","method":"sync"}]' },
  oversize: { code: -32004, frame: JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'sync', params: { pad: 'x'.repeat(600) } }) },
  'invalid-utf8': { code: -32700, frame: undefined },
  'too-large': { code: -32004, frame: undefined },
} as const;

class BadFrameCmd extends Base {
  constructor(readonly kind: keyof typeof BAD_FRAMES) {
    super();
  }
  apply(_m: SessionModel, r: SessionRig): void {
    const { code, frame } = BAD_FRAMES[this.kind];
    const delivered = r.delivers;
    const got = r.sendRaw(() => {
      if (frame !== undefined) r.peer.send(frame);
      else r.peer.sendMalformed(this.kind as 'invalid-utf8' | 'too-large');
    });
    if (!delivered) return r.expect(got.length === 0, `${this.kind} answered after close`);
    r.expect(got.length === 1 && got[0]!.id === null && codeOf(got[0]) === code, `${this.kind}: ${JSON.stringify(got)}`);
  }
  toString(): string {
    return `bad(${this.kind})`;
  }
}

class SilentFrameCmd extends Base {
  constructor(readonly kind: 'unknown-notification' | 'stray-response' | 'bad-cancel') {
    super();
  }
  apply(_m: SessionModel, r: SessionRig): void {
    const frame =
      this.kind === 'unknown-notification'
        ? { jsonrpc: '2.0', method: 'no/such/notification', params: { a: 1 } }
        : this.kind === 'stray-response'
          ? { jsonrpc: '2.0', id: 4242, result: 'nobody asked' }
          : { jsonrpc: '2.0', method: r.dialect.cancelNotification!.method, params: [1] };
    const got = r.sendRaw(() => r.peer.send(frame));
    r.expect(got.length === 0, `${this.kind} answered: ${JSON.stringify(got)}`);
  }
  toString(): string {
    return `silent(${this.kind})`;
  }
}

class LifecycleCmd extends Base {
  constructor(readonly what: 'end-input' | 'vanish' | 'drain' | 'close') {
    super();
  }
  apply(m: SessionModel, r: SessionRig): void {
    switch (this.what) {
      case 'end-input':
        r.endInput();
        if (m.phase === 'open') m.phase = 'draining';
        break;
      case 'drain':
        r.session.drain();
        if (m.phase === 'open') m.phase = 'draining';
        break;
      case 'vanish':
        r.vanish();
        m.phase = 'closed';
        break;
      case 'close':
        r.session.close('shutdown');
        m.phase = 'closed';
        // A server-side close answers every request first (the output still worked).
        if (!r.vanished) r.expect(r.pendingIds().length === 0, `close left ${r.pendingIds().length} unanswered`);
        break;
    }
    if (r.session.state === 'closed') m.phase = 'closed';
  }
  toString(): string {
    return this.what;
  }
}

class AdvanceCmd extends Base {
  constructor(readonly ms: number) {
    super();
  }
  apply(m: SessionModel, r: SessionRig): void {
    r.clock.advance(this.ms);
    if (r.session.state === 'closed') m.phase = 'closed';
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class ServerPingCmd extends Base {
  apply(_m: SessionModel, r: SessionRig): void {
    r.serverPing();
  }
  toString(): string {
    return 'serverPing';
  }
}

class AnswerPingCmd extends Base {
  constructor(readonly asError: boolean) {
    super();
  }
  apply(_m: SessionModel, r: SessionRig): void {
    const id = r.serverRequests.shift();
    if (id === undefined) return;
    const got = r.sendRaw(() =>
      r.peer.send(this.asError ? { jsonrpc: '2.0', id, error: { code: -1, message: 'no' } } : { jsonrpc: '2.0', id, result: {} }),
    );
    r.expect(got.length === 0, `answer to a server request was answered: ${JSON.stringify(got)}`);
  }
  toString(): string {
    return `answerPing(${this.asError ? 'error' : 'result'})`;
  }
}

/** Draining phases end in `closed` on their own once idle: keep the model in step. */
export function syncPhase(m: SessionModel, r: SessionRig): void {
  if (r.session.state === 'closed') m.phase = 'closed';
}

const request = fc.tuple(fc.constantFrom(...RIG_METHODS), fc.boolean()).map(([method, s]) => new RequestCmd(method, s));
const slowRequest = fc
  .tuple(fc.constantFrom<RigMethod>('ok', 'polite', 'listener', 'stubborn', 'fail', 'notify'), fc.boolean())
  .map(([method, s]) => new RequestCmd(method, s));
const cancel = fc
  .tuple(fc.constantFrom('pending', 'pending', 'pending', 'finished', 'unknown', 'zero' as const), fc.nat(7))
  .map(([t, pick]) => new CancelCmd(t, pick));

/** Every command; requests and cancels weigh more than the lifecycle steps that end a session. */
export const sessionCommands: fc.Arbitrary<Cmd>[] = [
  request,
  request,
  slowRequest,
  slowRequest,
  slowRequest,
  cancel,
  cancel,
  fc.nat(7).map((pick) => new DuplicateCmd(pick)),
  fc.constantFrom(...(Object.keys(BAD_FRAMES) as (keyof typeof BAD_FRAMES)[])).map((k) => new BadFrameCmd(k)),
  fc.constantFrom('unknown-notification', 'stray-response', 'bad-cancel' as const).map((k) => new SilentFrameCmd(k)),
  fc.constantFrom('end-input', 'vanish', 'drain', 'close' as const).map((w) => new LifecycleCmd(w)),
  fc.constantFrom(1, 10, 30, 50, 100, 1000).map((ms) => new AdvanceCmd(ms)),
  fc.constant(new ServerPingCmd()),
  fc.boolean().map((e) => new AnswerPingCmd(e)),
];
