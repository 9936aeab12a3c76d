import { describe, expect, it } from 'vitest';
import { createCliLogger, formatLine } from '../../src/cli/logger.js';

describe('createCliLogger (pino)', () => {
  it('writes one pino JSON line per entry at or above the level', () => {
    const lines: string[] = [];
    const logger = createCliLogger('info', { write: (line) => lines.push(line) });
    logger.debug({ a: 1 }, 'hidden');
    logger.info({ sessionId: 's1' }, 'shown');
    logger.error({ err: Object.assign(new Error('boom'), { code: 'EPIPE' }) });
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, pid: process.pid, sessionId: 's1', msg: 'shown' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 50, err: { type: 'Error', message: 'boom', code: 'EPIPE' } });
    expect(typeof JSON.parse(lines[1]!).time).toBe('number');
  });

  it('drops everything once silenced, and everything at level silent', () => {
    const lines: string[] = [];
    const logger = createCliLogger('debug', { write: (line) => lines.push(line) });
    logger.silence();
    logger.error({}, 'after silence');
    createCliLogger('silent', { write: (line) => lines.push(line) }).error({}, 'silent');
    expect(lines).toEqual([]);
  });

  it('still writes a line for an entry that cannot be serialized', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    createCliLogger('info', { write: (line) => lines.push(line) }).warn(cyclic, 'cyclic');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: 'cyclic' });
  });

  it('writes readable lines with pretty: time, level, message, then the fields', () => {
    const lines: string[] = [];
    const logger = createCliLogger('info', { write: (line) => lines.push(line), pretty: true });
    logger.info({ sessionId: 's1', reason: 'client' }, 'request 4 tools/call cancelled (client)');
    logger.warn({ err: new Error('boom') }, 'handler failed');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}request 4 tools\/call cancelled \(client\) sessionId=s1 reason=client\n$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d WARN {2}handler failed err=boom\n$/);
  });
});

describe('formatLine', () => {
  it('passes a line that is not JSON through unchanged', () => {
    expect(formatLine('listening ws://x\n')).toBe('listening ws://x\n');
  });
});
