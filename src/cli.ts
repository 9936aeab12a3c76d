#!/usr/bin/env node
// The command-line entry (bin `session-supervisor`). Nothing in the library imports this file.
import { runCli } from './cli/main.js';

try {
  const code = await runCli(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (error) {
  process.stderr.write(`session-supervisor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
