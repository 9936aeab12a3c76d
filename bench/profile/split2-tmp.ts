import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runHttpLoad } from '../lib/http-load.js';
const file = process.argv[2]!;
const child = spawn(process.execPath, [...(process.argv[3] ? process.argv[3].split(' ') : []), file], { stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => { createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('READY ')) resolve(JSON.parse(l.slice(6)).port); }); });
const pid = child.pid!;
const read = () => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return [Number(f[11]) * 10, Number(f[12]) * 10]; };
try {
  const url = `http://127.0.0.1:${port}/mcp`;
  await runHttpLoad({ name: 'x', url, kind: 'modern', connections: 100, warmupMs: 1000, measureMs: 1000 });
  const a = read(); const t = Date.now();
  const r = await runHttpLoad({ name: 'x', url, kind: 'modern', connections: 100, warmupMs: 0, measureMs: 5000 });
  const b = read();
  const n = r.opsPerSec * (Date.now() - t) / 1000;
  console.log(file.split('/').pop(), JSON.stringify({ rps: r.opsPerSec, errors: r.errors, userUs: ((b[0]!-a[0]!)*1000/n).toFixed(1), sysUs: ((b[1]!-a[1]!)*1000/n).toFixed(1) }));
} finally { child.kill(); }
process.exit(0);
