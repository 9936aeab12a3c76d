import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceServer } from '../../examples/conformance/server.js';
import { inspectorCli } from './inspector-cli.js';

// The MCP Inspector's command-line client against the conformance fixture over Streamable HTTP
// (it speaks the legacy era: initialize, then one request).
let fixture: Awaited<ReturnType<typeof startConformanceServer>>;
const cli = inspectorCli(() => [fixture.listener.url, '--transport', 'http']);
const inspector = cli.run;

beforeAll(async () => {
  fixture = await startConformanceServer(0);
});

afterAll(async () => {
  await fixture.close();
  cli.dispose();
});

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
