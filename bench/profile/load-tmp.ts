import { runHttpLoad } from '../lib/http-load.js';
const r = await runHttpLoad({ name: 'x', url: `http://127.0.0.1:${process.argv[2]}/mcp`, kind: 'modern', connections: Number(process.argv[3] ?? 100), warmupMs: 500, measureMs: 3000 });
console.log('rps', r.opsPerSec, 'total~', Math.round(r.opsPerSec * 3.5));
