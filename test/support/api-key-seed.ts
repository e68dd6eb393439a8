import { Client } from 'pg';
import { ulid } from 'ulid';
import { generateApiKey } from '../../src/auth/api-keys/api-key-format';
import { Capability, CAPABILITIES } from '../../src/auth/capability';

/**
 * Mints an API key for a gateway running in another process, straight into its database and
 * exactly as `ApiKeysService.create` stores one; returns the key.
 */
export async function seedApiKey(
  databaseUrl: string,
  orgId: string,
  capabilities: readonly Capability[] = CAPABILITIES,
): Promise<string> {
  const generated = generateApiKey();
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, capabilities, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, now())`,
      [ulid(), orgId, 'harness', generated.prefix, generated.hash, [...capabilities]],
    );
  } finally {
    await client.end();
  }
  return generated.key;
}
