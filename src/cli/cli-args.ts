import { parseArgs as parseArgsOf, ParseArgsConfig } from 'node:util';
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

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
interface CommandSpec {
  options: OptionsConfig;
  positionals: number;
}

const VALUE = { type: 'string' } as const;
const FLAG = { type: 'boolean' } as const;

/** Each command's options, and how many positional arguments it takes. */
const COMMANDS = {
  create: { options: { org: VALUE, name: VALUE, capabilities: VALUE, json: FLAG }, positionals: 0 },
  list: { options: { org: VALUE, json: FLAG }, positionals: 0 },
  revoke: { options: { org: VALUE }, positionals: 1 },
} satisfies Record<string, CommandSpec>;

type Action = keyof typeof COMMANDS;

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * The options and positional arguments of `api-keys <action>`, split by node's parser. Its
 * lenient mode reports every option as given, so that the errors below can name the option.
 */
function parseOptions(action: Action, args: string[]): Parsed {
  const spec: CommandSpec = COMMANDS[action];
  const { values, positionals, tokens } = parseArgsOf({ args, options: spec.options, strict: false, allowPositionals: true, tokens: true });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const type = Object.hasOwn(spec.options, token.name) ? spec.options[token.name].type : undefined;
    if (type === undefined) throw new CliUsageError(`unknown option ${token.rawName} for api-keys ${action}`);
    if (seen.has(token.name)) throw new CliUsageError(`${token.rawName} given twice`);
    seen.add(token.name);
    if (type === 'boolean' && token.value !== undefined) throw new CliUsageError(`${token.rawName} takes no value`);
    if (type === 'string' && token.value === undefined) throw new CliUsageError(`${token.rawName} needs a value`);
  }
  if (positionals.length !== spec.positionals) {
    throw new CliUsageError(
      spec.positionals === 0
        ? `unexpected argument "${positionals[0]}" for api-keys ${action}`
        : `api-keys ${action} takes exactly one key id`,
    );
  }
  return { values, positionals };
}

function value(parsed: Parsed, name: string): string | undefined {
  const given = parsed.values[name];
  return typeof given === 'string' ? given : undefined;
}

function optionalOrg(parsed: Parsed): string | undefined {
  const org = value(parsed, 'org');
  if (org !== undefined && !isOrgId(org)) {
    throw new CliUsageError(`--org must be 1 to ${MAX_ORG_ID_LENGTH} characters`);
  }
  return org;
}

function required(parsed: Parsed, name: string): string {
  const given = name === 'org' ? optionalOrg(parsed) : value(parsed, name);
  if (given === undefined) throw new CliUsageError(`--${name} is required`);
  return given;
}

/** Reads the command line (without `node` and the script). */
export function parseArgs(argv: string[]): CliCommand {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { command: 'help' };
  const [group, action, ...rest] = argv;
  if (group !== 'api-keys') throw new CliUsageError(`unknown command "${group}"`);
  if (action === undefined || !Object.hasOwn(COMMANDS, action)) {
    throw new CliUsageError(`api-keys needs one of: ${Object.keys(COMMANDS).join(', ')}`);
  }
  const parsed = parseOptions(action as Action, rest);
  switch (action as Action) {
    case 'create': {
      return {
        command: 'create',
        org: required(parsed, 'org'),
        name: required(parsed, 'name'),
        capabilities: required(parsed, 'capabilities').split(',').map((c) => c.trim()),
        json: parsed.values.json === true,
      };
    }
    case 'list':
      return { command: 'list', org: optionalOrg(parsed), json: parsed.values.json === true };
    case 'revoke':
      return { command: 'revoke', id: parsed.positionals[0], org: optionalOrg(parsed) };
  }
}
