import { describe, expect, it } from 'vitest';
import { disconnectAction, MCP_DISCONNECT_POLICY } from '../../src/mcp/index.js';

describe('MCP disconnect policy', () => {
  it('lets Streamable HTTP requests run on a disconnect before the 2026-07-28 spec', () => {
    expect(disconnectAction('streamable-http', '2025-06-18')).toBe('continue');
    expect(disconnectAction('streamable-http', '2024-11-05')).toBe('continue');
  });

  it('cancels Streamable HTTP requests on a disconnect from the 2026-07-28 spec on', () => {
    expect(disconnectAction('streamable-http', '2026-07-28')).toBe('cancel');
    expect(disconnectAction('streamable-http', '2027-01-01')).toBe('cancel');
  });

  it('cancels on stdio, WebSocket and unknown transports whatever the version', () => {
    for (const version of ['2024-10-07', '2025-11-25', undefined]) {
      expect(disconnectAction('stdio', version)).toBe('cancel');
      expect(disconnectAction('ws', version)).toBe('cancel');
      expect(disconnectAction('carrier-pigeon', version)).toBe('cancel');
    }
  });

  it('reads a custom table as data', () => {
    const table = [...MCP_DISCONNECT_POLICY, { transport: 'ws', since: '2025-01-01', action: 'continue' as const, why: 'resumable' }];
    expect(disconnectAction('ws', '2025-06-18', table)).toBe('continue');
    expect(disconnectAction('ws', '2024-11-05', table)).toBe('cancel');
  });
});
