import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '..');

export interface PrivateBuild {
  /** `main.js`: the gateway, as production starts it. */
  main: string;
  /** `cli.js`: the operator CLI of the same build. */
  cli: string;
  remove(): void;
}

/**
 * Builds the app exactly as `npm run build` does (`nest build`, with the Swagger plugin), but into
 * a temporary directory: a `dist/` that something else rebuilds meanwhile cannot change the
 * benchmarked server under its feet, and the working tree is left as it was. `node_modules` and
 * `package.json` links next to the output let it resolve the project's packages and version.
 */
export async function buildPrivately(): Promise<PrivateBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'wgw-bench-build-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const outDir = join(dir, 'dist');
    const tsconfig = join(dir, 'tsconfig.json');
    writeFileSync(tsconfig, JSON.stringify({ extends: join(ROOT, 'tsconfig.build.json'), compilerOptions: { outDir } }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    // The gateway reads its version (the webhook user agent) from the package file beside its build.
    symlinkSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    // The Nest CLI resolves `--path` against the working directory.
    await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build', '--path', relative(ROOT, tsconfig)], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { main: join(outDir, 'main.js'), cli: join(outDir, 'cli.js'), remove };
  } catch (error) {
    remove();
    throw error;
  }
}
