import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { and, assign, not, setup, type AnyStateMachine } from 'xstate';
import { runDiagramsCommand } from '../../src/cli/diagrams.js';
import {
  DIAGRAM_MACHINES,
  README_SECTION,
  generateDiagramFiles,
  renderReadmeSection,
  toMermaid,
  toSvg,
} from '../../src/diagrams/index.js';

const root = join(import.meta.dirname, '..', '..');

interface RawTransition {
  source: string;
  target: string;
  event: string;
}

// An independent walk of machine.root (not the generator's): every state path and every transition,
// eventless ones included, so a generator that drops something fails here.
function walk(machine: AnyStateMachine): { states: string[]; transitions: RawTransition[] } {
  const states: string[] = [];
  const transitions: RawTransition[] = [];
  const idOf = (node: { path: string[] }): string => (node.path.length === 0 ? machine.id : node.path.join('__'));
  const visit = (node: any): void => {
    states.push(node.path.join('.'));
    const list = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
    for (const t of list) {
      const event = t.eventType === '' ? 'always' : t.eventType;
      const targets = t.target === undefined || t.target.length === 0 ? [node] : t.target;
      for (const target of targets) transitions.push({ source: idOf(node), target: idOf(target), event });
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return { states, transitions };
}

function svgTransitions(svg: string): RawTransition[] {
  const out: RawTransition[] = [];
  const re = /<g class="transition" data-source="([^"]*)" data-target="([^"]*)" data-event="([^"]*)">/g;
  for (let m = re.exec(svg); m !== null; m = re.exec(svg)) out.push({ source: m[1]!, target: m[2]!, event: m[3]! });
  return out;
}

function svgStates(svg: string): string[] {
  return [...svg.matchAll(/<g class="state[^"]*" data-state="([^"]*)">/g)].map((m) => m[1]!);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A machine with what the project's machines do not use yet: guards, eventless and delayed
// transitions, a targetless transition, nested and parallel states.
const probe = setup({
  guards: { ready: () => true, big: () => true },
  actions: { note: () => {} },
}).createMachine({
  id: 'probe',
  context: { n: 0 },
  initial: 'idle',
  states: {
    idle: {
      tags: ['waiting'],
      always: [{ guard: 'ready', target: 'busy' }],
      after: { 1500: 'done' },
      on: {
        poke: { actions: 'note' },
        go: { guard: and(['ready', not('big')]), target: 'busy', actions: ['note', assign({ n: 1 })] },
      },
    },
    busy: {
      type: 'parallel',
      states: {
        left: { initial: 'l1', states: { l1: { on: { step: 'l2' } }, l2: {} } },
        right: { initial: 'r1', states: { r1: {} } },
      },
      on: { finish: 'done' },
    },
    done: { type: 'final' },
  },
});

describe('diagrams/', () => {
  it('matches what `npm run diagrams` would write (run it after changing a machine)', async () => {
    const files = await generateDiagramFiles();
    expect(files.map((f) => f.name).sort()).toEqual(
      DIAGRAM_MACHINES.flatMap((m) => [`${m.name}.mmd`, `${m.name}.svg`]).sort(),
    );
    for (const file of files) {
      const path = join(root, 'diagrams', file.name);
      expect(existsSync(path), `${file.name} is missing: run npm run diagrams`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${file.name} is stale: run npm run diagrams`).toBe(file.text);
    }
    const extra = readdirSync(join(root, 'diagrams')).filter((name) => !files.some((f) => f.name === name));
    expect(extra, 'files in diagrams/ the command does not write').toEqual([]);
  });

  it('has the README diagrams section equal to the generated one', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf(README_SECTION.start) + README_SECTION.start.length;
    const end = readme.indexOf(README_SECTION.end);
    expect(readme.slice(start, end), 'README diagrams section is stale: run npm run diagrams').toBe(renderReadmeSection());
  });
});

describe.each(DIAGRAM_MACHINES.map((d) => [d.name, d] as const))('the %s machine', (_name, { machine, source }) => {
  const raw = walk(machine);

  it('appears in the Mermaid text with every state and every transition', () => {
    const text = toMermaid(machine, { source });
    expect(text.split('\n')[0]).toBe('stateDiagram-v2');
    const lines = text.split('\n').map((l) => l.trim());
    for (const path of raw.states.filter((p) => p !== '')) {
      const id = path.split('.').join('__');
      expect(lines.some((l) => new RegExp(`(^|\\s)${escapeRe(id)}(\\s|$)`).test(l)), `state ${path}`).toBe(true);
    }
    for (const t of raw.transitions) {
      const line = new RegExp(`^${escapeRe(t.source)} --> ${escapeRe(t.target)} : ${escapeRe(t.event)}( |$)`);
      expect(lines.filter((l) => line.test(l)).length, `${t.source} --${t.event}--> ${t.target}`).toBeGreaterThan(0);
    }
    const edges = lines.filter((l) => / --> /.test(l) && !l.startsWith('[*]') && !l.endsWith('[*]'));
    expect(edges).toHaveLength(raw.transitions.length);
    const initial = (machine.root as any).initial.target[0].path.join('__');
    expect(lines).toContain(`[*] --> ${initial}`);
    for (const node of Object.values((machine.root as any).states) as any[]) {
      if (node.type === 'final') expect(lines).toContain(`${node.path.join('__')} --> [*]`);
    }
  });

  it('appears in the SVG with every state and every transition', async () => {
    const svg = await toSvg(machine);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svgStates(svg).sort()).toEqual(raw.states.map((p) => (p === '' ? machine.id : p)).sort());
    const drawn = svgTransitions(svg);
    expect(drawn).toHaveLength(raw.transitions.length);
    for (const t of raw.transitions) expect(drawn).toContainEqual(t);
    // Every drawn transition has a path with at least a start and an end point.
    expect(svg.match(/<g class="transition"[^>]*>\n<title>[^<]*<\/title>\n<path d="M[\d.-]+ [\d.-]+( L[\d.-]+ [\d.-]+)+"\/>/g)).toHaveLength(
      raw.transitions.length,
    );
  });
});

describe('the generators', () => {
  it('draw guards, eventless, delayed, targetless, nested and parallel transitions', async () => {
    const text = toMermaid(probe);
    expect(text).toContain('idle --> busy : always [ready]');
    expect(text).toContain('idle --> done : after 1500ms');
    expect(text).toContain('idle --> idle : poke / note');
    expect(text).toContain('idle --> busy : go [and(ready, not(big))] / note, assign(n)');
    expect(text).toContain('busy__left__l1 --> busy__left__l2 : step');
    expect(text).toContain('state "l1" as busy__left__l1');
    expect(text).toMatch(/state busy \{\n[\s\S]*\n {4}--\n[\s\S]*\n {2}\}/);
    expect(text).toContain('done --> [*]');
    // The delay timer's raise/cancel actions are plumbing, not entry actions worth a note.
    expect(text).toContain('note right of idle\n    tags: waiting\n  end note');

    const raw = walk(probe);
    const svg = await toSvg(probe);
    expect(svgStates(svg).sort()).toEqual(raw.states.map((p) => (p === '' ? 'probe' : p)).sort());
    expect(svgTransitions(svg)).toHaveLength(raw.transitions.length);
    expect(svg).toContain('always [ready]');
    expect(svg).toContain('go [and(ready, not(big))] / note, assign(n)');
  });

  it('are deterministic', async () => {
    const [a, b] = [await generateDiagramFiles(), await generateDiagramFiles()];
    expect(b).toEqual(a);
    expect(toMermaid(probe)).toBe(toMermaid(probe));
  });

  it('escape markup in SVG text and Mermaid labels', async () => {
    const odd = setup({}).createMachine({
      id: 'odd',
      initial: 'a',
      states: { a: { on: { 'x<y>&"z";#1': 'b' } }, b: {} },
    });
    const svg = await toSvg(odd);
    expect(svg).toContain('data-event="x&lt;y&gt;&amp;&quot;z&quot;;#1"');
    expect(svg).not.toContain('x<y>');
    expect(toMermaid(odd)).toContain('a --> b : x#60;y#62;&#quot;z#quot;#59;#35;1\n');
  });
});

describe('runDiagramsCommand', () => {
  const dirs: string[] = [];
  const temp = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'diagrams-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const capture = (cwd: string) => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { cwd, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) }, out, err };
  };

  it('with --check exits 1, lists the stale files and writes nothing', async () => {
    const cwd = temp();
    writeFileSync(join(cwd, 'README.md'), `# x\n${README_SECTION.start}\nold\n${README_SECTION.end}\n`);
    const { io, err } = capture(cwd);
    expect(await runDiagramsCommand(['--check'], io)).toBe(1);
    const listed = err.join('');
    for (const m of DIAGRAM_MACHINES) {
      expect(listed).toContain(join('diagrams', `${m.name}.mmd`));
      expect(listed).toContain(join('diagrams', `${m.name}.svg`));
    }
    expect(listed).toContain('README.md');
    expect(existsSync(join(cwd, 'diagrams'))).toBe(false);
    expect(readFileSync(join(cwd, 'README.md'), 'utf8')).toContain('\nold\n');
  });

  it('writes every file and the README section, after which --check passes', async () => {
    const cwd = temp();
    writeFileSync(join(cwd, 'README.md'), `# x\n\n${README_SECTION.start}\n${README_SECTION.end}\n\nafter\n`);
    expect(await runDiagramsCommand([], capture(cwd).io)).toBe(0);
    const files = await generateDiagramFiles();
    for (const f of files) expect(readFileSync(join(cwd, 'diagrams', f.name), 'utf8')).toBe(f.text);
    const readme = readFileSync(join(cwd, 'README.md'), 'utf8');
    expect(readme).toBe(`# x\n\n${README_SECTION.start}${renderReadmeSection()}${README_SECTION.end}\n\nafter\n`);
    const again = capture(cwd);
    expect(await runDiagramsCommand(['--check'], again.io)).toBe(0);
    expect(again.out.join('')).toContain('fresh');
    writeFileSync(join(cwd, 'diagrams', 'handler.svg'), '<svg/>');
    const stale = capture(cwd);
    expect(await runDiagramsCommand(['--check'], stale.io)).toBe(1);
    expect(stale.err.join('')).toContain(join('diagrams', 'handler.svg'));
    expect(stale.err.join('')).not.toContain('connection.svg');
  });

  it('writes to --out DIR and leaves the README alone', async () => {
    const cwd = temp();
    const { io } = capture(cwd);
    expect(await runDiagramsCommand(['--out', 'pics'], io)).toBe(0);
    expect(readdirSync(join(cwd, 'pics')).sort()).toEqual(
      DIAGRAM_MACHINES.flatMap((m) => [`${m.name}.mmd`, `${m.name}.svg`]).sort(),
    );
    expect(existsSync(join(cwd, 'README.md'))).toBe(false);
  });

  it('exits 2 on an unknown argument, a missing value, or a README without markers', async () => {
    const cwd = temp();
    const a = capture(cwd);
    expect(await runDiagramsCommand(['--bogus'], a.io)).toBe(2);
    expect(a.err.join('')).toContain("unknown argument '--bogus'");
    const b = capture(cwd);
    expect(await runDiagramsCommand(['--out'], b.io)).toBe(2);
    expect(b.err.join('')).toContain('--out needs a directory');
    writeFileSync(join(cwd, 'README.md'), '# no markers\n');
    const c = capture(cwd);
    expect(await runDiagramsCommand([], c.io)).toBe(2);
    expect(c.err.join('')).toContain('no <!-- section:diagrams --> markers');
    expect(existsSync(join(cwd, 'diagrams'))).toBe(false);
  });
});
