import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Capability, CAPABILITIES } from '../../src/auth/capability';

const CLI = join(resolve(__dirname, '..', '..'), 'dist', 'cli.js');

/**
 * Mints an API key for a gateway running in another process, as an operator does: with the
 * built CLI (`node dist/cli.js api-keys create`, or `cli` of another build) on the gateway's
 * database. Returns the key.
 */
export async function seedApiKey(
  databaseUrl: string,
  orgId: string,
  capabilities: readonly Capability[] = CAPABILITIES,
  cli = CLI,
): Promise<string> {
  const args = ['api-keys', 'create', '--org', orgId, '--name', 'harness', '--capabilities', capabilities.join(','), '--json'];
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
  });
  return (JSON.parse(stdout) as { key: string }).key;
}
