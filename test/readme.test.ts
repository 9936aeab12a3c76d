import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/jsonrpc/errors.js';

// Every ```ts block of README.md and of docs/*.md is compiled as its own module against the built
// package (imports by the package's own name), with the project's strict settings.
const root = join(import.meta.dirname, '..');
const dir = join(root, '.tmp', 'doc-snippets');

/** README.md and every Markdown page in docs/, as paths relative to the root. */
function documentationPages(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

function snippets(page: string): { name: string; code: string }[] {
  const text = readFileSync(join(root, page), 'utf8');
  const out: { name: string; code: string }[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ name: `${page.replace(/[/.]/g, '-')}-line-${line}.ts`, code: `${m[1]}\nexport {};\n` });
  }
  return out;
}

describe('documentation snippets', () => {
  it('finds TypeScript snippets in the README and in docs/', () => {
    const pages = documentationPages();
    expect(pages).toContain('README.md');
    expect(pages).toContain('docs/runtime.md');
    for (const page of ['README.md', 'docs/runtime.md', 'docs/transports.md', 'docs/mcp.md', 'docs/errors.md']) {
      expect(snippets(page).length, page).toBeGreaterThan(0);
    }
  });

  it('type-checks every TypeScript snippet of README.md and docs/*.md against the built package', () => {
    const list = documentationPages().flatMap(snippets);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = list.map(({ name, code }) => {
      const file = join(dir, name);
      writeFileSync(file, code);
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    });
    // Every snippet file is part of the program, so none is silently left out.
    const checked = new Set(program.getRootFileNames());
    expect(files.filter((file) => !checked.has(file))).toEqual([]);
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
    // A whole-program type-check: CPU-bound, far over the default budget on 2 busy cores.
  }, 180_000);
});

/** The string codes of local errors: the `SupervisorErrorCode` union and every `code = 'ERR_…'` field in src/. */
function localErrorCodes(): string[] {
  const codes = new Set<string>();
  const errors = readFileSync(join(root, 'src', 'jsonrpc', 'errors.ts'), 'utf8');
  const union = /export type SupervisorErrorCode =([\s\S]*?);/.exec(errors);
  for (const m of (union?.[1] ?? '').matchAll(/'(ERR_[A-Z_]+)'/g)) codes.add(m[1]!);
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        for (const m of text.matchAll(/readonly code = '(ERR_[A-Z_]+)'/g)) codes.add(m[1]!);
        for (const m of text.matchAll(/new SupervisorError\('(ERR_[A-Z_]+)'/g)) codes.add(m[1]!);
      }
    }
  };
  walk(join(root, 'src'));
  return [...codes].sort();
}

describe('docs/errors.md', () => {
  const page = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const rows = page.split('\n').filter((line) => line.startsWith('| '));

  it('has a table row for every wire error code, with its ErrorCode name', () => {
    const entries = Object.entries(ErrorCode);
    expect(entries.length).toBeGreaterThan(10);
    for (const [name, code] of entries) {
      const shown = `| ${String(code).replace('-', '−')} | \`${name}\` |`;
      expect(rows.some((row) => row.startsWith(shown)), shown).toBe(true);
    }
  });

  it('has a table row for every local error code thrown in src/', () => {
    const codes = localErrorCodes();
    expect(codes).toContain('ERR_NOT_ACCEPTING');
    expect(codes).toContain('ERR_REQUEST_CANCELLED');
    for (const code of codes) {
      expect(rows.some((row) => row.includes(`| \`${code}\` |`)), code).toBe(true);
    }
  });
});
