import { readFileSync } from 'node:fs';
import { parseServeArgs, SERVE_USAGE } from './args.js';
import { runServe } from './serve.js';

/**
 * This package's version, read from its package.json (found walking up from this file, so it works
 * from `src/` and from `dist/src/`).
 *
 * @example
 * ```ts
 * packageVersion(); // '0.1.0'
 * ```
 */
export function packageVersion(): string {
  for (let up = '../'; up.length <= 4 * 3; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'session-supervisor' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
}

/**
 * The top-level usage text.
 *
 * @example
 * ```ts
 * process.stdout.write(USAGE);
 * ```
 */
export const USAGE = `Usage: session-supervisor <command> [options]

Commands:
  serve       serve the demo MCP server over WebSocket (default ws://127.0.0.1:8787) or --stdio
  diagrams    generate the state-machine diagrams (Mermaid and SVG)

Options:
  --version   print the version
  --help      this text

Run 'session-supervisor <command> --help' for the options of a command.
`;

/**
 * Run the CLI with its arguments (without `node` and the script). Resolves with the exit code, or
 * `undefined` while a server keeps running (it sets the exit code itself when it stops).
 *
 * @example
 * ```ts
 * const code = await runCli(process.argv.slice(2));
 * if (code !== undefined) process.exitCode = code;
 * ```
 */
export async function runCli(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case 'serve': {
      if (rest.includes('--version')) {
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      }
      const parsed = parseServeArgs(rest, process.env);
      if (parsed.kind === 'help') {
        process.stdout.write(SERVE_USAGE);
        return 0;
      }
      if (parsed.kind === 'error') {
        process.stderr.write(`session-supervisor serve: ${parsed.message}\nRun 'session-supervisor serve --help' for the options.\n`);
        return 2;
      }
      await runServe(parsed);
      return undefined;
    }
    case 'diagrams': {
      const { runDiagramsCommand } = await import('./diagrams.js');
      return runDiagramsCommand([...rest]);
    }
    default:
      process.stderr.write(`session-supervisor: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}
