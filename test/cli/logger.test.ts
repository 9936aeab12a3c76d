import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../src/cli/logger.js';

describe('createJsonLogger', () => {
  it('writes one pino-style JSON line per entry at or above the level', () => {
    const lines: string[] = [];
    const logger = createJsonLogger('info', (line) => lines.push(line));
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
    const logger = createJsonLogger('debug', (line) => lines.push(line));
    logger.silence();
    logger.error({}, 'after silence');
    createJsonLogger('silent', (line) => lines.push(line)).error({}, 'silent');
    expect(lines).toEqual([]);
  });

  it('still writes a line for an entry that cannot be serialized', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    createJsonLogger('info', (line) => lines.push(line)).warn(cyclic, 'cyclic');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: 'cyclic' });
  });
});
