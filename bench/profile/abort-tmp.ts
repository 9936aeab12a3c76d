import { runHttpAbort } from '../scenarios/http-abort.js';
const n = Number(process.argv[2] ?? '3');
const rows = [];
for (let i = 0; i < n; i++) { const r = await runHttpAbort(10000); rows.push(r); console.log(`cancelAll ${r.cancelAllMs} afterLast ${r.afterLastAbortMs} drop ${r.abortMs} cpu/abort ${r.serverCpuUsPerAbort}`); }
