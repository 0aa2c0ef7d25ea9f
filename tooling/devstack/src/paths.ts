import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The monorepo root: the nearest folder above `from` holding pnpm-workspace.yaml. */
export function findRepoRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml found above ${from}`);
    dir = parent;
  }
}

/** Git-ignored folder for downloaded jars and persistent stack data. */
export function localDir(...segments: string[]): string {
  return join(findRepoRoot(), '.local', ...segments);
}
