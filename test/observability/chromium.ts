import { execFileSync } from 'node:child_process';

/** Debian's chromium on PATH (`apt-get install -y chromium`; .ci/run installs it), or undefined. */
export function findChromium(): string | undefined {
  try {
    const path = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}
