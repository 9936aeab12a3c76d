import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The MCP Inspector's command-line client as a second, independent peer. Its `inspector --cli` mode
// runs this package; 0.15.0 is the last release that runs on Node 20 (later ones declare >= 22).
const INSPECTOR_CLI = join(import.meta.dirname, '../../node_modules/@modelcontextprotocol/inspector-cli/build/index.js');
const home = mkdtempSync(join(tmpdir(), 'inspector-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function inspector(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [INSPECTOR_CLI, process.execPath, 'dist/src/cli.js', 'serve', '--stdio', '--log-level', 'warn', ...args], {
      env: { ...process.env, HOME: home, USERPROFILE: home },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 25_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('interop with the MCP Inspector CLI over stdio', () => {
  it('lists the demo tools', async () => {
    const result = await inspector('--method', 'tools/list');
    expect(result.code, result.stderr).toBe(0);
    const { tools } = JSON.parse(result.stdout) as { tools: Array<{ name: string; inputSchema: { type: string } }> };
    expect(tools.map((t) => t.name)).toEqual(['echo', 'sleep', 'stubborn_sleep', 'fail']);
    expect(tools.every((t) => t.inputSchema.type === 'object')).toBe(true);
  });

  it('calls echo and gets the text back', async () => {
    const result = await inspector('--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'text=from the inspector');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ content: [{ type: 'text', text: 'from the inspector' }] });
  });
});
