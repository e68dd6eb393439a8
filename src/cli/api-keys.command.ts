import { ApiKeysService, OperatorApiKeyView } from '../auth/api-keys/api-keys.service';
import { CreateApiKeyDto } from '../auth/api-keys/create-api-key.dto';
import { AppError } from '../common/errors/app-error';
import { StrictValidationPipe } from '../common/validation/strict-validation.pipe';
import { CliCommand, CliUsageError } from './cli-args';

const PAGE_SIZE = 100;

type Print = (text: string) => void;

/** The same rules as `POST /api/v1/api-keys`; a violation is a usage error naming the option. */
async function validated(name: string, capabilities: string[]): Promise<CreateApiKeyDto> {
  try {
    return (await new StrictValidationPipe().transform(
      { name, capabilities },
      { type: 'body', metatype: CreateApiKeyDto },
    )) as CreateApiKeyDto;
  } catch (error) {
    const fields = error instanceof AppError ? (error.details.fields as Record<string, string[]> | undefined) : undefined;
    if (!fields) throw error;
    const [field, problems] = Object.entries(fields)[0];
    throw new CliUsageError(`--${field}: ${problems.join('; ')}`);
  }
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n');
}

async function allKeys(apiKeys: ApiKeysService, org: string | undefined): Promise<OperatorApiKeyView[]> {
  const keys: OperatorApiKeyView[] = [];
  let cursor: string | undefined;
  do {
    const page = await apiKeys.listForOperator(org, PAGE_SIZE, cursor);
    keys.push(...page.data);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return keys;
}

/** Runs one `api-keys` command against the service and prints its outcome. */
export async function runApiKeysCommand(
  command: Exclude<CliCommand, { command: 'help' }>,
  apiKeys: ApiKeysService,
  print: Print,
): Promise<void> {
  switch (command.command) {
    case 'create': {
      const input = await validated(command.name, command.capabilities);
      const created = await apiKeys.create(command.org, input);
      if (command.json) {
        print(JSON.stringify({ ...created, orgId: command.org }));
        return;
      }
      print(
        `Created API key ${created.id} for organization ${command.org}.\n` +
          `${table([
            ['  name', created.name],
            ['  capabilities', created.capabilities.join(',')],
            ['  prefix', created.prefix],
            ['  key', created.key],
          ])}\n` +
          'The key is shown only this once: store it now. Send it as "Authorization: Bearer <key>".',
      );
      return;
    }
    case 'list': {
      const keys = await allKeys(apiKeys, command.org);
      if (command.json) {
        print(JSON.stringify(keys));
        return;
      }
      if (keys.length === 0) {
        print(command.org ? `No active API keys for organization ${command.org}.` : 'No active API keys.');
        return;
      }
      const header = ['ID', 'ORG', 'NAME', 'CAPABILITIES', 'PREFIX', 'CREATED', 'LAST USED'];
      const rows = keys.map((k) => [k.id, k.orgId, k.name, k.capabilities.join(','), k.prefix, iso(k.createdAt), iso(k.lastUsedAt)]);
      print(table([header, ...rows]));
      return;
    }
    case 'revoke':
      await apiKeys.revokeForOperator(command.id, command.org);
      print(`Revoked API key ${command.id}.`);
  }
}
