import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceServer } from '../../examples/conformance/server.js';

// The MCP Inspector's command-line client against the conformance fixture over Streamable HTTP
// (it speaks the legacy era: initialize, then one request).
const INSPECTOR_CLI = join(import.meta.dirname, '../../node_modules/@modelcontextprotocol/inspector-cli/build/index.js');
const home = mkdtempSync(join(tmpdir(), 'inspector-home-'));
let fixture: Awaited<ReturnType<typeof startConformanceServer>>;

beforeAll(async () => {
  fixture = await startConformanceServer(0);
});

afterAll(async () => {
  await fixture.close();
  rmSync(home, { recursive: true, force: true });
});

function inspector(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [INSPECTOR_CLI, fixture.listener.url, '--transport', 'http', ...args], {
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

describe('interop with the MCP Inspector CLI over Streamable HTTP', () => {
  it('lists the tools', async () => {
    const result = await inspector('--method', 'tools/list');
    expect(result.code, result.stderr).toBe(0);
    const { tools } = JSON.parse(result.stdout) as { tools: Array<{ name: string }> };
    expect(tools.map((tool) => tool.name)).toContain('test_simple_text');
  });

  it('calls a tool', async () => {
    const result = await inspector('--method', 'tools/call', '--tool-name', 'test_simple_text');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] });
  });

  it('reads a resource and gets a prompt with arguments', async () => {
    const read = await inspector('--method', 'resources/read', '--uri', 'test://static-text');
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual({
      contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    });
    const prompt = await inspector('--method', 'prompts/get', '--prompt-name', 'test_prompt_with_arguments', '--prompt-args', 'arg1=hello', 'arg2=world');
    expect(prompt.code, prompt.stderr).toBe(0);
    expect(JSON.parse(prompt.stdout)).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" } }],
    });
  });
});
