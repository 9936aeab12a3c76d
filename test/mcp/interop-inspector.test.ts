import { afterAll, describe, expect, it } from 'vitest';
import { inspectorCli } from './inspector-cli.js';

const cli = inspectorCli(() => [process.execPath, 'dist/src/cli.js', 'serve', '--stdio', '--log-level', 'warn']);
afterAll(() => cli.dispose());
const inspector = cli.run;

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
