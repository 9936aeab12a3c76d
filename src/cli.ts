#!/usr/bin/env node
// The command-line entry. Commands are filled in by their own modules; nothing in the library imports this file.
const [command] = process.argv.slice(2);
process.stderr.write(`session-supervisor: command '${command ?? ''}' is not available yet\n`);
process.exitCode = 2;
