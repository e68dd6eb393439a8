import { isPublicAddress, urlFormProblem } from '../../src/webhooks/webhook-url-guard';

describe('webhook URL guard', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '192.0.2.10',
    '198.18.0.1',
    '240.0.0.1',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::7f00:1',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    '2001:db8::1',
    '2001::1',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it.each([
    ['https://hooks.example.com/x?y=1', null],
    ['http://93.184.215.14:8080/', null],
    ['ftp://example.com/', 'must be an absolute http or https URL'],
    ['//example.com/x', 'must be an absolute http or https URL'],
    ['https://user@example.com/', 'must not carry credentials'],
    ['https://:pw@example.com/', 'must not carry credentials'],
    ['https://example.com/a b', 'must be a URL without spaces or control characters'],
    ['https://example.com/\u0007', 'must be a URL without spaces or control characters'],
    ['https://example.com/\u0000', 'must be valid Unicode text without NUL'],
    [`https://example.com/${'x'.repeat(2030)}`, 'must be 1..2048 characters'],
    [42, 'must be a string'],
  ])('judges the form of %j', (url, problem) => {
    expect(urlFormProblem(url)).toBe(problem);
  });
});
