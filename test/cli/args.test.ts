import { describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/cli/args.js';

describe('parseServeArgs', () => {
  it('has the documented defaults', () => {
    expect(parseServeArgs([])).toEqual({
      kind: 'serve',
      host: '127.0.0.1',
      port: 8787,
      stdio: false,
      drainTimeoutMs: undefined,
      requestTimeoutMs: undefined,
      maxInFlight: undefined,
      maxMessageBytes: undefined,
      logLevel: 'info',
      inspect: false,
      metricsPort: undefined,
      dashboardPort: undefined,
      httpPath: '/mcp',
      maxSessions: undefined,
      sessionIdleTimeoutMs: undefined,
      allowedOrigins: undefined,
      shutdownDelayMs: 0,
      cancelGraceMs: undefined,
      healthPath: '/healthz',
      readyPath: '/readyz',
      workers: undefined,
    });
  });

  it('reads every flag, as --flag value and as --flag=value', () => {
    expect(
      parseServeArgs([
        '--host', '0.0.0.0', '--port=0', '--drain-timeout', '500', '--request-timeout=0', '--max-in-flight', '8',
        '--max-message-bytes', '1024', '--log-level', 'debug', '--inspect', '--metrics-port', '9464', '--dashboard-port=0',
      ]),
    ).toEqual({
      kind: 'serve',
      host: '0.0.0.0',
      port: 0,
      stdio: false,
      drainTimeoutMs: 500,
      requestTimeoutMs: 0,
      maxInFlight: 8,
      maxMessageBytes: 1024,
      logLevel: 'debug',
      inspect: true,
      metricsPort: 9464,
      dashboardPort: 0,
      httpPath: '/mcp',
      maxSessions: undefined,
      sessionIdleTimeoutMs: undefined,
      allowedOrigins: undefined,
      shutdownDelayMs: 0,
      cancelGraceMs: undefined,
      healthPath: '/healthz',
      readyPath: '/readyz',
      workers: undefined,
    });
    expect(parseServeArgs(['--stdio'])).toMatchObject({ stdio: true });
    expect(
      parseServeArgs(['--http-path', '/rpc', '--max-sessions=0', '--session-idle-timeout', '60000', '--allowed-origins', 'https://a.example, http://b.example:8080']),
    ).toMatchObject({ httpPath: '/rpc', maxSessions: 0, sessionIdleTimeoutMs: 60000, allowedOrigins: ['https://a.example', 'http://b.example:8080'] });
    expect(parseServeArgs(['--allowed-origins', '*'])).toMatchObject({ allowedOrigins: '*' });
    expect(
      parseServeArgs(['--shutdown-delay', '5000', '--cancel-grace=100', '--health-path', '/livez', '--ready-path=/ready', '--workers', '2']),
    ).toMatchObject({ shutdownDelayMs: 5000, cancelGraceMs: 100, healthPath: '/livez', readyPath: '/ready', workers: 2 });
    expect(parseServeArgs(['--workers', '0'])).toEqual({ kind: 'error', message: "--workers must be an integer >= 1 (got '0')" });
    expect(parseServeArgs(['--ready-path', 'readyz'])).toMatchObject({ kind: 'error' });
    expect(parseServeArgs(['--port', '1', '--help'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--port'], '--port needs a value'],
    [['--port', '--stdio'], '--port needs a value'],
    [['--port', 'abc'], "--port must be an integer from 0 to 65535 (got 'abc')"],
    [['--port', '70000'], "--port must be an integer from 0 to 65535 (got '70000')"],
    [['--port', '08'], "--port must be an integer from 0 to 65535 (got '08')"],
    [['--drain-timeout', '-5'], "--drain-timeout must be an integer >= 0 (got '-5')"],
    [['--drain-timeout', '1.5'], "--drain-timeout must be an integer >= 0 (got '1.5')"],
    [['--request-timeout', '1e3'], "--request-timeout must be an integer >= 0 (got '1e3')"],
    [['--max-in-flight', '0'], "--max-in-flight must be an integer >= 1 (got '0')"],
    [['--max-message-bytes', '99999999999999999999'], "--max-message-bytes must be an integer >= 1 (got '99999999999999999999')"],
    [['--log-level', 'loud'], '--log-level must be one of trace, debug, info, warn, error, fatal, silent'],
    [['--host='], '--host needs a non-empty value'],
    [['--http-path', 'mcp'], "--http-path must start with '/' and hold no spaces (got 'mcp')"],
    [['--allowed-origins', 'a,,b'], "--allowed-origins needs a comma-separated list or * (got 'a,,b')"],
    [['--session-idle-timeout', '-1'], "--session-idle-timeout must be an integer >= 0 (got '-1')"],
    [['--stdio', '--port', '1'], '--stdio cannot be combined with --host or --port'],
    [['--host', 'x', '--stdio'], '--stdio cannot be combined with --host or --port'],
    [['--stdio=yes'], '--stdio takes no value'],
    [['--port', '1', '--port', '2'], '--port given twice'],
    [['serve'], "unknown option 'serve'"],
  ])('refuses %j: %s', (args, message) => {
    const parsed = parseServeArgs(args);
    expect(parsed.kind).toBe('error');
    expect((parsed as { message: string }).message).toContain(message);
  });
});
