import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The path of `dist/<name>.js`, as `npm run build` makes it. `npm test` builds before Jest runs;
 * when the build is missing or older than a file under src/ (a test file run on its own after an
 * edit), the tree is built here first, the same way, so that a test never runs stale code.
 */
export function builtEntry(name: string): string {
  const entry = join(ROOT, 'dist', `${name}.js`);
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestMtimeMs(join(ROOT, 'src'))) return entry;
  try {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'nest'), ['build'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    const output = (error as { stdout?: Buffer; stderr?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`dist/${name}.js is missing or older than src/, and \`npm run build\` failed:\n${output}`);
  }
  if (!existsSync(entry)) throw new Error(`\`npm run build\` did not produce dist/${name}.js`);
  return entry;
}
