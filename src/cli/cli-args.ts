import { isOrgId, MAX_ORG_ID_LENGTH } from '../auth/org-id';

export const USAGE = `Usage:
  api-keys create --org <org> --name <name> --capabilities <list> [--json]
      Creates a key and prints it, once. <list> is comma-separated: read,send,manage,ingest
  api-keys list [--org <org>] [--json]
      Lists active keys (of one organization, or of every one). Never prints a key.
  api-keys revoke <id> [--org <org>]
      Revokes a key: it answers 401 from its next request (on every replica within 5 s).

Run as \`npm run -s cli -- <command>\`, or \`node dist/cli.js <command>\` after \`npm run build\`.
The database is the gateway's: DATABASE_URL, or the embedded PostgreSQL under DATA_DIR.`;

export type CliCommand =
  | { command: 'help' }
  | { command: 'create'; org: string; name: string; capabilities: string[]; json: boolean }
  | { command: 'list'; org?: string; json: boolean }
  | { command: 'revoke'; id: string; org?: string };

/** Bad arguments: the message is the one line printed before exiting with status 2. */
export class CliUsageError extends Error {}

const OPTIONS = {
  create: { values: ['org', 'name', 'capabilities'], flags: ['json'], positional: 0 },
  list: { values: ['org'], flags: ['json'], positional: 0 },
  revoke: { values: ['org'], flags: [], positional: 1 },
} as const;

type Action = keyof typeof OPTIONS;

interface Parsed {
  values: Map<string, string>;
  flags: Set<string>;
  positional: string[];
}

function parseOptions(action: Action, args: string[]): Parsed {
  const spec = OPTIONS[action];
  const parsed: Parsed = { values: new Map(), flags: new Set(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (parsed.values.has(name) || parsed.flags.has(name)) throw new CliUsageError(`--${name} given twice`);
    if ((spec.flags as readonly string[]).includes(name)) {
      if (eq !== -1) throw new CliUsageError(`--${name} takes no value`);
      parsed.flags.add(name);
    } else if ((spec.values as readonly string[]).includes(name)) {
      const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new CliUsageError(`--${name} needs a value`);
      parsed.values.set(name, value);
    } else {
      throw new CliUsageError(`unknown option --${name} for api-keys ${action}`);
    }
  }
  if (parsed.positional.length !== spec.positional) {
    throw new CliUsageError(
      spec.positional === 0
        ? `unexpected argument "${parsed.positional[0]}" for api-keys ${action}`
        : `api-keys ${action} takes exactly one key id`,
    );
  }
  return parsed;
}

function optionalOrg(parsed: Parsed): string | undefined {
  const value = parsed.values.get('org');
  if (value !== undefined && !isOrgId(value)) {
    throw new CliUsageError(`--org must be 1 to ${MAX_ORG_ID_LENGTH} characters`);
  }
  return value;
}

function required(parsed: Parsed, name: string): string {
  const value = name === 'org' ? optionalOrg(parsed) : parsed.values.get(name);
  if (value === undefined) throw new CliUsageError(`--${name} is required`);
  return value;
}

/** Reads the command line (without `node` and the script). */
export function parseArgs(argv: string[]): CliCommand {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { command: 'help' };
  const [group, action, ...rest] = argv;
  if (group !== 'api-keys') throw new CliUsageError(`unknown command "${group}"`);
  if (action === undefined || !Object.hasOwn(OPTIONS, action)) {
    throw new CliUsageError(`api-keys needs one of: ${Object.keys(OPTIONS).join(', ')}`);
  }
  const parsed = parseOptions(action as Action, rest);
  switch (action as Action) {
    case 'create': {
      return {
        command: 'create',
        org: required(parsed, 'org'),
        name: required(parsed, 'name'),
        capabilities: required(parsed, 'capabilities').split(',').map((c) => c.trim()),
        json: parsed.flags.has('json'),
      };
    }
    case 'list':
      return { command: 'list', org: optionalOrg(parsed), json: parsed.flags.has('json') };
    case 'revoke':
      return { command: 'revoke', id: parsed.positional[0], org: optionalOrg(parsed) };
  }
}
