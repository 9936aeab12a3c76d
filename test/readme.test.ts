import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Every ```ts block of the README is compiled as its own module against the built package
// (imports by the package's own name), with the project's strict settings.
const root = join(import.meta.dirname, '..');
const dir = join(root, '.tmp', 'readme-snippets');

function snippets(): { name: string; code: string }[] {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const out: { name: string; code: string }[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ name: `readme-line-${line}.ts`, code: `${m[1]}\nexport {};\n` });
  }
  return out;
}

describe('README', () => {
  it('type-checks every TypeScript snippet against the built package', () => {
    const list = snippets();
    expect(list.length).toBeGreaterThan(0);
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
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
