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

  it('refuses what it cannot understand with a one-line usage error', () => {
    const bad = [
      ['sessions'],
      ['api-keys'],
      ['api-keys', 'delete', 'x'],
      ['api-keys', 'toString'],
      ['api-keys', 'create', '--name', 'x', '--capabilities', 'read'],
      ['api-keys', 'create', '--org', 'a', '--capabilities', 'read'],
      ['api-keys', 'create', '--org', 'a', '--name', 'x'],
      ['api-keys', 'create', '--org', 'a', '--name', 'x', '--capabilities'],
      ['api-keys', 'create', '--org', '', '--name', 'x', '--capabilities', 'read'],
      ['api-keys', 'create', '--org', 'o'.repeat(129), '--name', 'x', '--capabilities', 'read'],
      ['api-keys', 'create', '--org', 'a', '--org', 'b', '--name', 'x', '--capabilities', 'read'],
      ['api-keys', 'create', '--org', 'a', '--name', 'x', '--capabilities', 'read', 'extra'],
      ['api-keys', 'create', '--org', 'a', '--name', 'x', '--capabilities', 'read', '--json=yes'],
      ['api-keys', 'list', '--verbose'],
      ['api-keys', 'list', 'acme'],
      ['api-keys', 'revoke'],
      ['api-keys', 'revoke', 'a', 'b'],
      ['api-keys', 'revoke', 'a', '--json'],
    ];
    for (const argv of bad) {
      let error: unknown;
      try {
        parseArgs(argv);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliUsageError);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
