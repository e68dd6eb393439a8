import { CliUsageError, parseArgs } from '../../src/cli/cli-args';

describe('CLI arguments', () => {
  it('reads the three api-keys commands, with --opt value and --opt=value', () => {
    expect(parseArgs(['api-keys', 'create', '--org', 'acme', '--name', 'ops', '--capabilities', 'read, send,manage'])).toEqual({
      command: 'create',
      org: 'acme',
      name: 'ops',
      capabilities: ['read', 'send', 'manage'],
      json: false,
    });
    expect(parseArgs(['api-keys', 'create', '--org=acme', '--name=a b', '--capabilities=read', '--json'])).toMatchObject({
      name: 'a b',
      json: true,
    });
    expect(parseArgs(['api-keys', 'list'])).toEqual({ command: 'list', org: undefined, json: false });
    expect(parseArgs(['api-keys', 'list', '--org', 'acme', '--json'])).toEqual({ command: 'list', org: 'acme', json: true });
    expect(parseArgs(['api-keys', 'revoke', '01HF7Z3K8Q2V5N9T4W6X0Y1B2C'])).toEqual({
      command: 'revoke',
      id: '01HF7Z3K8Q2V5N9T4W6X0Y1B2C',
      org: undefined,
    });
    expect(parseArgs(['api-keys', 'revoke', '--org', 'acme', 'X'])).toEqual({ command: 'revoke', id: 'X', org: 'acme' });
  });

  it('asks for help on nothing, help, -h or --help', () => {
    for (const argv of [[], ['help'], ['-h'], ['api-keys', 'create', '--help']]) expect(parseArgs(argv)).toEqual({ command: 'help' });
  });

  it('takes everything after -- as positional arguments', () => {
    expect(parseArgs(['api-keys', 'revoke', '--org', 'acme', '--', '--odd-id'])).toEqual({ command: 'revoke', id: '--odd-id', org: 'acme' });
  });

  it('refuses what it cannot understand with a one-line usage error that says what is wrong', () => {
    const create = ['api-keys', 'create'];
    const bad: [string[], string][] = [
      [['sessions'], 'unknown command "sessions"'],
      [['sessions', 'list'], 'unknown command "sessions"'],
      [['api-keys'], 'api-keys needs one of: create, list, revoke'],
      [['api-keys', 'delete', 'x'], 'api-keys needs one of: create, list, revoke'],
      [['api-keys', 'toString'], 'api-keys needs one of: create, list, revoke'],
      [[...create, '--name', 'x', '--capabilities', 'read'], '--org is required'],
      [[...create, '--org', 'a', '--capabilities', 'read'], '--name is required'],
      [[...create, '--org', 'a', '--name', 'x'], '--capabilities is required'],
      [[...create, '--org', 'a', '--name', 'x', '--capabilities'], '--capabilities needs a value'],
      [[...create, '--org', '', '--name', 'x', '--capabilities', 'read'], '--org must be 1 to 128 characters'],
      [[...create, '--org', 'o'.repeat(129), '--name', 'x', '--capabilities', 'read'], '--org must be 1 to 128 characters'],
      [[...create, '--org', 'a', '--org', 'b', '--name', 'x', '--capabilities', 'read'], '--org given twice'],
      [[...create, '--org=a', '--org', 'b', '--name', 'x', '--capabilities', 'read'], '--org given twice'],
      [[...create, '--org', 'a', '--name', 'x', '--capabilities', 'read', 'extra'], 'unexpected argument "extra" for api-keys create'],
      [[...create, '--org', 'a', '--name', 'x', '--capabilities', 'read', '--json=yes'], '--json takes no value'],
      [['api-keys', 'list', '--verbose'], 'unknown option --verbose for api-keys list'],
      [['api-keys', 'list', '-v'], 'unknown option -v for api-keys list'],
      [['api-keys', 'list', 'acme'], 'unexpected argument "acme" for api-keys list'],
      [['api-keys', 'list', '--', '--org'], 'unexpected argument "--org" for api-keys list'],
      [['api-keys', 'revoke'], 'api-keys revoke takes exactly one key id'],
      [['api-keys', 'revoke', 'a', 'b'], 'api-keys revoke takes exactly one key id'],
      [['api-keys', 'revoke', 'a', '--json'], 'unknown option --json for api-keys revoke'],
    ];
    for (const [argv, message] of bad) {
      let error: unknown;
      try {
        parseArgs(argv);
      } catch (e) {
        error = e;
      }
      expect({ argv, error }).toEqual({ argv, error: new CliUsageError(message) });
      expect(error).toBeInstanceOf(CliUsageError);
    }
  });
});
