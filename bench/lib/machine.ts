import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ROOT } from './child.js';

function versionOf(name: string): string {
  try {
    const path = name === 'session-supervisor' ? `${ROOT}package.json` : `${ROOT}node_modules/${name}/package.json`;
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The machine and versions a run was made on. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    versions: {
      'session-supervisor': versionOf('session-supervisor'),
      xstate: versionOf('xstate'),
      ws: versionOf('ws'),
      zod: versionOf('zod'),
      '@modelcontextprotocol/sdk': versionOf('@modelcontextprotocol/sdk'),
      'vscode-jsonrpc': versionOf('vscode-jsonrpc'),
    },
    date: new Date().toISOString(),
  };
}
