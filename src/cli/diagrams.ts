import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { generateDiagramFiles, renderReadmeSection, spliceReadmeSection } from '../diagrams/index.js';

/**
 * Where {@link runDiagramsCommand} reads and writes, and where it reports. Defaults: the process's
 * working directory, stdout and stderr.
 *
 * @example
 * ```ts
 * await runDiagramsCommand(['--check'], { cwd: '/repo', stdout: (s) => log.push(s) });
 * ```
 */
export interface DiagramsCommandIo {
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

const USAGE = `Usage: session-supervisor diagrams [--out DIR] [--readme FILE | --no-readme] [--check]

Writes DIR/<machine>.mmd (Mermaid stateDiagram-v2) and DIR/<machine>.svg for the connection,
handler and supervisor machines, and the diagrams section of the README. The SVG layout uses the
package elkjs (an optional dependency). From an installed package: session-supervisor diagrams --out DIR.

  --out DIR       output directory (default: diagrams)
  --readme FILE   README whose <!-- section:diagrams --> block is rewritten (default: README.md,
                  skipped when --out is given)
  --no-readme     leave the README alone
  --check         write nothing; exit 1 and list the stale files
  --help          this text
`;

interface Parsed {
  out: string;
  readme: string | undefined;
  check: boolean;
}

function parse(argv: string[]): Parsed | string {
  let out: string | undefined;
  let readme: string | null | undefined;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--out': {
        const v = value();
        if (v === undefined || v === '') return '--out needs a directory';
        out = v;
        break;
      }
      case '--readme': {
        const v = value();
        if (v === undefined || v === '') return '--readme needs a file';
        readme = v;
        break;
      }
      case '--no-readme':
        readme = null;
        break;
      case '--check':
        check = true;
        break;
      default:
        return `unknown argument '${arg}'`;
    }
  }
  return {
    out: out ?? 'diagrams',
    readme: readme === null ? undefined : readme ?? (out === undefined ? 'README.md' : undefined),
    check,
  };
}

/** The bare package name a failed dynamic import could not find (`elkjs`), if that is what failed. */
function missingPackage(error: unknown): string | undefined {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  return /Cannot find package '([^']+)'/.exec(String((error as Error).message))?.[1];
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The `diagrams` command: generate a Mermaid and an SVG diagram per machine into `--out DIR`
 * (default `diagrams/`) and the README's diagrams section; with `--check`, write nothing and exit 1
 * listing every stale or missing file. Returns the exit code: 0 done (or fresh), 1 stale, 2 bad
 * arguments or a README without the diagrams markers.
 *
 * @example
 * ```ts
 * import { runDiagramsCommand } from './cli/diagrams.js';
 *
 * process.exitCode = await runDiagramsCommand(process.argv.slice(3));
 * ```
 */
export async function runDiagramsCommand(argv: string[], io: DiagramsCommandIo = {}): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const stdout = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => void process.stderr.write(text));
  if (argv.includes('--help') || argv.includes('-h')) {
    stdout(USAGE);
    return 0;
  }
  const parsed = parse(argv);
  if (typeof parsed === 'string') {
    stderr(`session-supervisor diagrams: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  const outDir = resolve(cwd, parsed.out);
  let files: Awaited<ReturnType<typeof generateDiagramFiles>>;
  try {
    files = await generateDiagramFiles();
  } catch (error) {
    const missing = missingPackage(error);
    if (missing === undefined) throw error;
    stderr(
      `session-supervisor diagrams: the SVG layout needs the package '${missing}', which is not installed here.\n` +
        `It is an optional dependency of session-supervisor: install it beside it (npm install ${missing}) and run again.\n`,
    );
    return 1;
  }
  const wanted = files.map((f) => ({ path: join(outDir, f.name), text: f.text }));
  if (parsed.readme !== undefined) {
    const readmePath = resolve(cwd, parsed.readme);
    const current = await readText(readmePath);
    const next = current === undefined ? undefined : spliceReadmeSection(current, renderReadmeSection(relative(resolve(readmePath, '..'), outDir).split('\\').join('/') || '.'));
    if (next === undefined) {
      stderr(`session-supervisor diagrams: ${parsed.readme} has no <!-- section:diagrams --> markers (use --no-readme)\n`);
      return 2;
    }
    wanted.push({ path: readmePath, text: next });
  }
  const stale: string[] = [];
  for (const file of wanted) {
    if ((await readText(file.path)) !== file.text) stale.push(file.path);
  }
  const show = (path: string): string => relative(cwd, path) || path;
  if (parsed.check) {
    if (stale.length === 0) {
      stdout(`diagrams are fresh (${wanted.length} files)\n`);
      return 0;
    }
    stderr(`stale diagrams (run \`npm run diagrams\`):\n${stale.map((p) => `  ${show(p)}\n`).join('')}`);
    return 1;
  }
  await mkdir(outDir, { recursive: true });
  for (const file of wanted) {
    if (stale.includes(file.path)) await writeFile(file.path, file.text);
  }
  stdout(stale.length === 0 ? `diagrams are fresh (${wanted.length} files)\n` : `wrote ${stale.map(show).join(', ')}\n`);
  return 0;
}
