import type { AnyStateMachine } from 'xstate';
import { connectionMachine } from '../../machines/connection.js';
import { handlerMachine } from '../../machines/handler.js';
import { supervisorMachine } from '../../machines/supervisor.js';
import { taskMachine } from '../../machines/task.js';
import { toMermaid } from './mermaid.js';
import { toSvg } from './svg.js';

export { describeMachine, allStates } from './model.js';
export type { DiagramModel, DiagramState, DiagramTransition } from './model.js';
export { toMermaid } from './mermaid.js';
export type { MermaidOptions } from './mermaid.js';
export { toSvg } from './svg.js';
export type { SvgOptions } from './svg.js';

/**
 * A machine the project draws, with the file that defines it.
 *
 * @example
 * ```ts
 * DIAGRAM_MACHINES.map((d) => d.name); // ['connection', 'handler', 'supervisor', 'task']
 * ```
 */
export interface DiagramMachine {
  name: string;
  source: string;
  machine: AnyStateMachine;
}

/**
 * The machines `npm run diagrams` draws, in the order the README shows them.
 *
 * @example
 * ```ts
 * for (const { name, machine } of DIAGRAM_MACHINES) console.log(name, toMermaid(machine));
 * ```
 */
export const DIAGRAM_MACHINES: readonly DiagramMachine[] = [
  { name: 'connection', source: 'machines/connection.ts', machine: connectionMachine },
  { name: 'handler', source: 'machines/handler.ts', machine: handlerMachine },
  { name: 'supervisor', source: 'machines/supervisor.ts', machine: supervisorMachine },
  { name: 'task', source: 'machines/task.ts', machine: taskMachine },
];

/**
 * One generated file: its name inside the diagrams directory and its text.
 *
 * @example
 * ```ts
 * const file: DiagramFile = { name: 'handler.mmd', text: 'stateDiagram-v2\n' };
 * ```
 */
export interface DiagramFile {
  name: string;
  text: string;
}

/**
 * Every diagram file, generated in memory: `<machine>.mmd` (Mermaid) and `<machine>.svg` per machine.
 *
 * @example
 * ```ts
 * const files = await generateDiagramFiles();
 * files.map((f) => f.name); // ['connection.mmd', 'connection.svg', 'handler.mmd', …]
 * ```
 */
export async function generateDiagramFiles(machines: readonly DiagramMachine[] = DIAGRAM_MACHINES): Promise<DiagramFile[]> {
  const files: DiagramFile[] = [];
  for (const { name, source, machine } of machines) {
    files.push({ name: `${name}.mmd`, text: toMermaid(machine, { source }) });
    files.push({ name: `${name}.svg`, text: await toSvg(machine) });
  }
  return files;
}

/**
 * The README marker pair the generated section lives between.
 *
 * @example
 * ```ts
 * readme.indexOf(README_SECTION.start); // where the generated diagrams section begins
 * ```
 */
export const README_SECTION = { start: '<!-- section:diagrams -->', end: '<!-- /section:diagrams -->' } as const;

/**
 * The README's diagrams section (the text between its markers): each machine's SVG as an image,
 * with links to its source and its Mermaid diagram (the README stays short; the `.mmd` files hold
 * the Mermaid text).
 *
 * @example
 * ```ts
 * const section = renderReadmeSection('diagrams');
 * section.includes('diagrams/connection.svg'); // true
 * ```
 */
export function renderReadmeSection(dir = 'diagrams', machines: readonly DiagramMachine[] = DIAGRAM_MACHINES): string {
  const lines: string[] = [
    '## Diagrams',
    '',
    'Generated from `machines/` by `npm run diagrams` (never drawn by hand; `npm test` fails when they are',
    'stale, and `npm run diagrams -- --check` lists stale files without writing). Each machine has a',
    'Mermaid `stateDiagram-v2` (`.mmd`) and an SVG drawn offline with an elkjs layout. Edges read',
    '`event [guard] / actions`; notes list tags and entry/exit actions.',
    '',
  ];
  for (const { name, source } of machines) {
    lines.push(`### ${name}`, '', `From [\`${source}\`](${source}) — [\`${dir}/${name}.mmd\`](${dir}/${name}.mmd)`, '');
    lines.push(`![${name} state machine](${dir}/${name}.svg)`, '');
  }
  lines.push(
    'Regenerate after changing a machine:',
    '',
    '```sh',
    'npm run diagrams              # writes diagrams/*.mmd, diagrams/*.svg and this README section',
    'npm run diagrams -- --check   # exit 1 and list what is stale; writes nothing',
    'npm run diagrams -- --out tmp/diagrams --no-readme',
    '```',
  );
  return `\n${lines.join('\n')}\n`;
}

/**
 * Replace the text between the diagrams markers of a README with `section`.
 * Returns `undefined` when the markers are missing.
 *
 * @example
 * ```ts
 * const next = spliceReadmeSection(readme, renderReadmeSection());
 * ```
 */
export function spliceReadmeSection(readme: string, section: string): string | undefined {
  const start = readme.indexOf(README_SECTION.start);
  const end = readme.indexOf(README_SECTION.end);
  if (start === -1 || end === -1 || end < start) return undefined;
  return readme.slice(0, start + README_SECTION.start.length) + section + readme.slice(end);
}
