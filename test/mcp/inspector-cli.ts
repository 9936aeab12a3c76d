import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The MCP Inspector's command-line client as an independent peer. Its `inspector --cli` mode runs
// this package; 0.15.0 is the last release that runs on Node 20 (later ones declare >= 22).
const INSPECTOR_CLI = join(import.meta.dirname, '../../node_modules/@modelcontextprotocol/inspector-cli/build/index.js');

/** A runner of the inspector CLI with its own HOME (call `dispose` after the tests). */
export function inspectorCli(target: () => string[]): {
  run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  dispose(): void;
} {
  const home = mkdtempSync(join(tmpdir(), 'inspector-home-'));
  const run = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [INSPECTOR_CLI, ...target(), ...args], {
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
  return { run, dispose: () => rmSync(home, { recursive: true, force: true }) };
}
