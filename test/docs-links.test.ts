import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every relative link and image of README.md and docs/*.md points at a file or folder that exists,
// and a `#fragment` into a Markdown page names one of its headings (GitHub's anchor rules).
const root = join(import.meta.dirname, '..');

const pages = (): string[] => [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** The text outside fenced code blocks and inline code spans, where Markdown links live. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file offers (repeated headings get `-1`, `-2`, … as on GitHub). */
function anchors(markdown: string): Set<string> {
  const code = /^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm;
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of markdown.replace(code, '').matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The link targets of a Markdown page: `[text](target)`, `![alt](target)`, `href="…"`, `src="…"`. */
function linkTargets(markdown: string): string[] {
  const text = prose(markdown);
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\b(?:href|src)="([^"]+)"/g)) out.push(m[1]!);
  return out;
}

function brokenLinks(file: string, text: string): string[] {
  const page = relative(root, file);
  const broken: string[] = [];
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …: not a file here
    const hash = target.indexOf('#');
    const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const fragment = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved = join(dirname(file), path);
    if (path !== '' && !existsSync(resolved)) {
      broken.push(`${page}: ${target} (no ${relative(root, resolved)})`);
      continue;
    }
    if (fragment === undefined || (path !== '' && (!resolved.endsWith('.md') || !statSync(resolved).isFile()))) continue;
    const headings = anchors(path === '' ? text : readFileSync(resolved, 'utf8'));
    if (!headings.has(fragment)) broken.push(`${page}: ${target} (no heading #${fragment})`);
  }
  return broken;
}

describe('links in README.md and docs/*.md', () => {
  it('computes GitHub anchors and finds links outside code', () => {
    expect(slug('The runtime: `createSupervisor`')).toBe('the-runtime-createsupervisor');
    expect(slug('What happens on drain, close and cancel')).toBe('what-happens-on-drain-close-and-cancel');
    expect(slug('`supervisor.stats()`')).toBe('supervisorstats');
    expect([...anchors('# A\n## A\n```sh\n# not a heading\n```\n')]).toEqual(['a', 'a-1']);
    expect(linkTargets('[a](x.md#y) ![b](img.png "t") `[c](skip.md)`\n```\n[d](skip.md)\n```\n')).toEqual(['x.md#y', 'img.png']);
  });

  it('reports a missing file and a missing heading, and passes good links', () => {
    const file = join(root, 'docs', 'example.md');
    const text = [
      '[ok](runtime.md#createsupervisor) [up](../README.md) [self](#local) [web](https://example.com/x.md)',
      '[gone](no-such-page.md) [bad anchor](runtime.md#no-such-heading) [bad self](#nowhere)',
      '## Local',
    ].join('\n');
    expect(brokenLinks(file, text)).toEqual([
      'docs/example.md: no-such-page.md (no docs/no-such-page.md)',
      'docs/example.md: runtime.md#no-such-heading (no heading #no-such-heading)',
      'docs/example.md: #nowhere (no heading #nowhere)',
    ]);
  });

  for (const page of pages()) {
    it(`every relative link of ${page} points at an existing file and heading`, () => {
      const text = readFileSync(join(root, page), 'utf8');
      if (page === 'README.md') expect(linkTargets(text).length).toBeGreaterThan(5);
      expect(brokenLinks(join(root, page), text)).toEqual([]);
    });
  }
});
