/**
 * Summarize a V8 `.cpuprofile`: the top functions by self time and by inclusive time (each
 * function counted once per sample however deep it recurses), as percentages of all samples.
 *
 *   npx tsx bench/profile/summarize.ts /tmp/prof/CPU.….cpuprofile [top] [lastMs]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const label = (node: ProfileNode): string => {
  const file = node.callFrame.url.replace(/^.*\/(node_modules\/|src\/|machines\/|bench\/)/, '$1');
  return `${node.callFrame.functionName || '(anonymous)'} ${file}:${node.callFrame.lineNumber + 1}`;
};

/**
 * The top `top` functions by self and by inclusive share of the samples, as text; with
 * `lastMs`, only the samples of the profile's last `lastMs` milliseconds.
 */
export function summarizeProfile(path: string, top = 40, lastMs?: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  if (lastMs !== undefined) {
    let t = 0;
    const times = profile.timeDeltas.map((delta) => (t += delta));
    const from = t - lastMs * 1000;
    profile.samples = profile.samples.filter((_, i) => times[i]! >= from);
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idle = 0;
  for (const sample of profile.samples) {
    const node = byId.get(sample)!;
    if (node.callFrame.functionName === '(idle)') idle += 1;
    self.set(label(node), (self.get(label(node)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const name = label(byId.get(id)!);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
    }
  }
  const busy = profile.samples.length - idle;
  const pct = (n: number): string => `${((100 * n) / busy).toFixed(1)}%`.padStart(6);
  const rows = (map: Map<string, number>): string =>
    [...map.entries()]
      .filter(([name]) => !name.startsWith('(idle)') && !name.startsWith('(root)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => `${pct(n)}  ${name}`)
      .join('\n');
  return `samples ${profile.samples.length}, idle ${idle} (percentages of the busy ${busy})\n-- self --\n${rows(self)}\n-- inclusive --\n${rows(inclusive)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lastMs = process.argv[4];
  console.log(summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? '40'), lastMs === undefined ? undefined : Number(lastMs)));
}
