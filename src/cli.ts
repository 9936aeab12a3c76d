#!/usr/bin/env node
// The command-line entry. Commands are filled in by their own modules; nothing in the library imports this file.
const [command, ...rest] = process.argv.slice(2);
if (command === 'diagrams') {
  const { runDiagramsCommand } = await import('./cli/diagrams.js');
  process.exitCode = await runDiagramsCommand(rest);
} else {
  process.stderr.write(`session-supervisor: command '${command ?? ''}' is not available yet\n`);
  process.exitCode = 2;
}
