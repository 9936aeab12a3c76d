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
      quiet: false,
      inspect: false,
      inspectPort: undefined,
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
        '--quiet', '--inspect-port', '0',
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
      quiet: true,
      inspect: true,
      inspectPort: 0,
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
    expect(parseServeArgs(['--workers', '0'])).toEqual({ kind: 'error', message: "--workers must be an integer >= 1 or auto (got '0')" });
    expect(parseServeArgs(['--workers', 'many'])).toEqual({ kind: 'error', message: "--workers must be an integer >= 1 or auto (got 'many')" });
    expect(parseServeArgs(['--workers', 'auto'])).toMatchObject({ workers: 'auto' });
    expect(parseServeArgs([], { SESSION_SUPERVISOR_WORKERS: 'auto' })).toMatchObject({ workers: 'auto' });
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
    [['--bogus=1'], "unknown option '--bogus=1'"],
    [['--quiet=1'], '--quiet takes no value'],
    [['--inspect-port', '-1'], "--inspect-port must be an integer from 0 to 65535 (got '-1')"],
  ])('refuses %j: %s', (args, message) => {
    const parsed = parseServeArgs(args);
    expect(parsed.kind).toBe('error');
    expect((parsed as { message: string }).message).toContain(message);
  });

  it('reads every flag from its SESSION_SUPERVISOR_* variable; a flag wins over its variable', () => {
    const env = {
      SESSION_SUPERVISOR_HOST: '0.0.0.0',
      SESSION_SUPERVISOR_PORT: '9000',
      SESSION_SUPERVISOR_DRAIN_TIMEOUT: '250',
      SESSION_SUPERVISOR_REQUEST_TIMEOUT: '0',
      SESSION_SUPERVISOR_MAX_IN_FLIGHT: '4',
      SESSION_SUPERVISOR_MAX_MESSAGE_BYTES: '2048',
      SESSION_SUPERVISOR_LOG_LEVEL: 'warn',
      SESSION_SUPERVISOR_QUIET: '1',
      SESSION_SUPERVISOR_INSPECT: 'true',
      SESSION_SUPERVISOR_INSPECT_PORT: '8081',
      SESSION_SUPERVISOR_METRICS_PORT: '9464',
      SESSION_SUPERVISOR_DASHBOARD_PORT: '9465',
      SESSION_SUPERVISOR_HTTP_PATH: '/rpc',
      SESSION_SUPERVISOR_MAX_SESSIONS: '50',
      SESSION_SUPERVISOR_SESSION_IDLE_TIMEOUT: '60000',
      SESSION_SUPERVISOR_ALLOWED_ORIGINS: 'http://a.example, http://b.example',
      UNRELATED: 'x',
    };
    expect(parseServeArgs([], env)).toEqual({
      kind: 'serve',
      host: '0.0.0.0',
      port: 9000,
      stdio: false,
      drainTimeoutMs: 250,
      requestTimeoutMs: 0,
      maxInFlight: 4,
      maxMessageBytes: 2048,
      logLevel: 'warn',
      quiet: true,
      inspect: true,
      inspectPort: 8081,
      metricsPort: 9464,
      dashboardPort: 9465,
      httpPath: '/rpc',
      maxSessions: 50,
      sessionIdleTimeoutMs: 60000,
      allowedOrigins: ['http://a.example', 'http://b.example'],
      shutdownDelayMs: 0,
      cancelGraceMs: undefined,
      healthPath: '/healthz',
      readyPath: '/readyz',
      workers: undefined,
    });
    expect(parseServeArgs([], { SESSION_SUPERVISOR_SHUTDOWN_DELAY: '5000', SESSION_SUPERVISOR_WORKERS: '2' })).toMatchObject({ shutdownDelayMs: 5000, workers: 2 });
    expect(parseServeArgs([], { SESSION_SUPERVISOR_ALLOWED_ORIGINS: '*' })).toMatchObject({ allowedOrigins: '*' });
    expect(parseServeArgs([], { SESSION_SUPERVISOR_HTTP_PATH: 'rpc' })).toEqual({
      kind: 'error',
      message: "SESSION_SUPERVISOR_HTTP_PATH must start with '/' and hold no spaces (got 'rpc')",
    });
    expect(parseServeArgs(['--port', '1', '--log-level=debug'], env)).toMatchObject({ port: 1, logLevel: 'debug', host: '0.0.0.0' });
    expect(parseServeArgs([], { SESSION_SUPERVISOR_STDIO: '1' })).toMatchObject({ stdio: true });
    expect(parseServeArgs([], { SESSION_SUPERVISOR_QUIET: '0' })).toMatchObject({ quiet: false });
  });

  it.each([
    [{ SESSION_SUPERVISOR_PORT: 'abc' }, "SESSION_SUPERVISOR_PORT must be an integer from 0 to 65535 (got 'abc')"],
    [{ SESSION_SUPERVISOR_LOG_LEVEL: 'loud' }, 'SESSION_SUPERVISOR_LOG_LEVEL must be one of trace, debug'],
    [{ SESSION_SUPERVISOR_QUIET: 'maybe' }, "SESSION_SUPERVISOR_QUIET must be 1 or 0 (got 'maybe')"],
    [{ SESSION_SUPERVISOR_HOST: '' }, 'SESSION_SUPERVISOR_HOST needs a non-empty value'],
  ])('refuses a bad variable %j: %s', (env, message) => {
    const parsed = parseServeArgs([], env);
    expect(parsed.kind).toBe('error');
    expect((parsed as { message: string }).message).toContain(message);
  });
});
