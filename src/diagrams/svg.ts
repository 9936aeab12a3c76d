import type { AnyStateMachine } from 'xstate';
import type { ElkExtendedEdge, ElkNode, ElkPoint } from 'elkjs/lib/elk-api.js';
import { describeMachine, stateNotes, type DiagramModel, type DiagramState, type DiagramTransition } from './model.js';

/**
 * Options of {@link toSvg}.
 *
 * @example
 * ```ts
 * await toSvg(connectionMachine, { direction: 'DOWN' });
 * ```
 */
export interface SvgOptions {
  /** Layout direction of the elkjs `layered` algorithm. Default `RIGHT`. */
  direction?: 'RIGHT' | 'DOWN';
}

// Text is measured with fixed advances of a monospace font, so the output does not depend on the host.
const NAME_SIZE = 13;
const NOTE_SIZE = 11;
const LABEL_SIZE = 11;
const CHAR = 0.6; // advance of one monospace character, in ems
const NAME_LINE = 30;
const NOTE_LINE = 15;
const PAD = 12;
const INITIAL = 12;
const FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";

const width = (text: string, size: number): number => Math.ceil(text.length * size * CHAR);
const num = (n: number): string => String(Math.round(n * 10) / 10);

function esc(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function headerHeight(state: DiagramState): number {
  const lines = stateNotes(state);
  return NAME_LINE + (lines.length > 0 ? lines.length * NOTE_LINE + 6 : 0);
}

function boxWidth(state: DiagramState): number {
  const lines = stateNotes(state);
  return Math.max(80, width(state.key, NAME_SIZE), ...lines.map((l) => width(l, NOTE_SIZE))) + 2 * PAD;
}

/** Build the elk graph: one node per state (compound states hold their children), one edge per transition. */
function toElk(model: DiagramModel, direction: string): ElkNode {
  const parentOf = new Map<string, string>();
  const node = (state: DiagramState): ElkNode => {
    const out: ElkNode = { id: state.id, width: boxWidth(state), height: Math.max(48, headerHeight(state) + 4) };
    if (state.children.length > 0) {
      const children: ElkNode[] = [];
      if (state.initial !== undefined) children.push({ id: `${state.id}::initial`, width: INITIAL, height: INITIAL });
      for (const child of state.children) {
        parentOf.set(child.id, state.id);
        children.push(node(child));
      }
      out.children = children;
      out.layoutOptions = {
        'elk.padding': `[top=${headerHeight(state) + 8},left=${PAD + 4},bottom=${PAD + 4},right=${PAD + 4}]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${out.width}, ${out.height})`,
      };
      delete out.width;
      delete out.height;
    }
    return out;
  };
  const root = node(model.root);
  const edges: ElkExtendedEdge[] = [];
  const initialEdges = (state: DiagramState): void => {
    if (state.initial !== undefined) {
      edges.push({ id: `${state.id}::start`, sources: [`${state.id}::initial`], targets: [state.initial] });
    }
    state.children.forEach(initialEdges);
  };
  initialEdges(model.root);
  model.transitions.forEach((t, index) => {
    const text = t.label;
    edges.push({
      id: `t${index}`,
      sources: [t.source],
      targets: [t.target],
      labels: [{ id: `t${index}::label`, text, width: width(text, LABEL_SIZE) + 8, height: LABEL_SIZE + 7 }],
    });
  });
  return {
    id: '::graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.spacing.nodeNodeBetweenLayers': '70',
      'elk.spacing.nodeNode': '40',
      'elk.spacing.edgeEdge': '14',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.spacing.edgeNodeBetweenLayers': '20',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      'elk.randomSeed': '1',
    },
    children: [root],
    edges,
  };
}

type ElkConstructor = new () => { layout(graph: ElkNode): Promise<ElkNode> };

/** elkjs is CommonJS: its `module.exports` is the constructor (TypeScript types it as `default.default`). */
async function loadElk(): Promise<ElkConstructor> {
  const mod: unknown = (await import('elkjs/lib/elk.bundled.js')).default;
  const inner = (mod as { default?: unknown }).default;
  return (typeof inner === 'function' ? inner : mod) as ElkConstructor;
}

interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
}

function place(node: ElkNode, dx: number, dy: number, out: Map<string, Placed>): void {
  const x = dx + (node.x ?? 0);
  const y = dy + (node.y ?? 0);
  out.set(node.id, { x, y, width: node.width ?? 0, height: node.height ?? 0 });
  for (const child of node.children ?? []) place(child, x, y, out);
}

function drawState(state: DiagramState, boxes: Map<string, Placed>, out: string[]): void {
  const box = boxes.get(state.id);
  if (box === undefined) return;
  const cls = state.children.length > 0 ? 'state compound' : state.type === 'final' ? 'state final' : 'state';
  out.push(`<g class="${cls}" data-state="${esc(state.path === '' ? state.key : state.path)}">`);
  out.push(`<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.width)}" height="${num(box.height)}" rx="8"/>`);
  if (state.type === 'final') {
    out.push(`<rect class="inner" x="${num(box.x + 4)}" y="${num(box.y + 4)}" width="${num(box.width - 8)}" height="${num(box.height - 8)}" rx="5"/>`);
  }
  out.push(`<text class="name" x="${num(box.x + PAD)}" y="${num(box.y + 20)}">${esc(state.key)}</text>`);
  const lines = stateNotes(state);
  if (lines.length > 0) {
    out.push(`<line x1="${num(box.x)}" y1="${num(box.y + NAME_LINE)}" x2="${num(box.x + box.width)}" y2="${num(box.y + NAME_LINE)}"/>`);
    lines.forEach((line, i) => {
      out.push(`<text class="note" x="${num(box.x + PAD)}" y="${num(box.y + NAME_LINE + 14 + i * NOTE_LINE)}">${esc(line)}</text>`);
    });
  }
  out.push('</g>');
  if (state.initial !== undefined) {
    const marker = boxes.get(`${state.id}::initial`);
    if (marker !== undefined) {
      out.push(`<circle class="initial" cx="${num(marker.x + INITIAL / 2)}" cy="${num(marker.y + INITIAL / 2)}" r="${num(INITIAL / 2)}"/>`);
    }
  }
  for (const child of state.children) drawState(child, boxes, out);
}

function drawEdge(edge: ElkExtendedEdge, transition: DiagramTransition | undefined, boxes: Map<string, Placed>, out: string[]): void {
  const origin = boxes.get(edge.container ?? '::graph') ?? { x: 0, y: 0, width: 0, height: 0 };
  const points: ElkPoint[] = [];
  for (const section of edge.sections ?? []) {
    points.push(section.startPoint, ...(section.bendPoints ?? []), section.endPoint);
  }
  if (points.length === 0) return;
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(origin.x + p.x)} ${num(origin.y + p.y)}`).join(' ');
  if (transition === undefined) {
    out.push(`<path class="start" d="${d}"/>`);
    return;
  }
  const attrs = `data-source="${esc(transition.source)}" data-target="${esc(transition.target)}" data-event="${esc(transition.event)}"`;
  out.push(`<g class="transition" ${attrs}>`);
  out.push(`<title>${esc(`${transition.source} → ${transition.target}: ${transition.label}`)}</title>`);
  out.push(`<path d="${d}"/>`);
  const label = edge.labels?.[0];
  if (label !== undefined) {
    const x = origin.x + (label.x ?? 0);
    const y = origin.y + (label.y ?? 0);
    out.push(`<rect class="label" x="${num(x)}" y="${num(y)}" width="${num(label.width ?? 0)}" height="${num(label.height ?? 0)}" rx="3"/>`);
    out.push(`<text class="label" x="${num(x + 4)}" y="${num(y + LABEL_SIZE + 1)}">${esc(transition.label)}</text>`);
  }
  out.push('</g>');
}

/**
 * An SVG picture of a machine, drawn offline: elkjs lays out the states (compound states as boxes
 * around their children) and the transitions, and this function writes the boxes, rounded state
 * nodes, arrows and labels as plain SVG text — no browser involved. Every state is a
 * `<g class="state" data-state="path">`, every transition a
 * `<g class="transition" data-source data-target data-event>` with a `<title>`. Text is measured
 * with fixed monospace advances and elk runs with a fixed seed, so the output is deterministic.
 *
 * @example
 * ```ts
 * import { handlerMachine } from 'session-supervisor/machines';
 * import { toSvg } from './svg.js';
 *
 * const svg = await toSvg(handlerMachine);
 * svg.startsWith('<svg'); // true
 * ```
 */
export async function toSvg(machine: AnyStateMachine, options: SvgOptions = {}): Promise<string> {
  const model = describeMachine(machine);
  // Loaded on use: elkjs is only needed when pictures are drawn.
  const elk = new (await loadElk())();
  const laid = await elk.layout(toElk(model, options.direction ?? 'RIGHT'));
  const boxes = new Map<string, Placed>();
  place(laid, -(laid.x ?? 0), -(laid.y ?? 0), boxes);
  const w = Math.ceil(laid.width ?? 0);
  const h = Math.ceil(laid.height ?? 0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(`${model.id} state machine`)}">`);
  out.push(`<title>${esc(`${model.id} state machine`)}</title>`);
  out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#334155"/></marker></defs>');
  out.push('<style>');
  out.push(`text{font-family:${FONT};fill:#0f172a}`);
  out.push(`.state>rect{fill:#f8fafc;stroke:#334155;stroke-width:1.5}.compound>rect{fill:#ffffff;stroke-dasharray:none}.final>rect.inner{fill:none}`);
  out.push(`.state>line{stroke:#cbd5e1}.name{font-size:${NAME_SIZE}px;font-weight:bold}.note{font-size:${NOTE_SIZE}px;fill:#475569}`);
  out.push(`.transition>path,path.start{fill:none;stroke:#334155;stroke-width:1.2;marker-end:url(#arrow)}`);
  out.push(`rect.label{fill:#ffffff;stroke:#e2e8f0}text.label{font-size:${LABEL_SIZE}px}.initial{fill:#0f172a}`);
  out.push('</style>');
  out.push(`<rect width="${w}" height="${h}" fill="#ffffff"/>`);
  drawState(model.root, boxes, out);
  const edges = (laid.edges ?? []) as ElkExtendedEdge[];
  for (const edge of edges) {
    const index = edge.id.startsWith('t') ? Number(edge.id.slice(1)) : Number.NaN;
    drawEdge(edge, Number.isNaN(index) ? undefined : model.transitions[index], boxes, out);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
