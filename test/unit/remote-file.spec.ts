import { isPublicAddress } from '../../src/media/address-policy';
import { RemoteFileError, RemoteFileFetcher } from '../../src/media/remote-file';
import { FileServer, redirect, serve, trickle } from '../support/file-server';

describe('isPublicAddress', () => {
  it.each([
    ['93.184.216.34', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['127.0.0.1', false],
    ['127.5.5.5', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['64:ff9b::a00:1', false],
    ['2002:a00:1::', false],
    ['not an address', false],
  ])('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('RemoteFileFetcher', () => {
  const server = new FileServer({
    '/file': serve(Buffer.from('hello')),
    '/to-file': redirect('/file'),
    '/to-other-loopback': redirect((base) => base.replace('127.0.0.1', '127.0.0.2') + '/file'),
    '/r1': redirect('/r2'),
    '/r2': redirect('/r3'),
    '/r3': redirect('/r4'),
    '/r4': redirect('/file'),
    '/trickle': trickle(50),
  });
  let base: string;
  // Only the test server's address: everything else stands for a private address.
  const fetcher = new RemoteFileFetcher((address) => address === '127.0.0.1', 500);

  beforeAll(async () => {
    base = await server.start();
  });
  afterAll(async () => {
    await fetcher.close();
    await server.stop();
  });

  const read = async (url: string): Promise<string> => {
    const file = await fetcher.fetch(url);
    const chunks: Buffer[] = [];
    for await (const chunk of file.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString();
  };

  it('fetches a file and follows up to 3 redirects', async () => {
    expect(await read(`${base}/file`)).toBe('hello');
    expect(await read(`${base}/to-file`)).toBe('hello');
    await expect(read(`${base}/r1`)).rejects.toThrow('redirects more than 3 times');
  });

  it('checks the address of every redirect again', async () => {
    const before = server.hits.length;
    await expect(read(`${base}/to-other-loopback`)).rejects.toThrow(new RemoteFileError('is not a public address'));
    expect(server.hits.length).toBe(before + 1);
  });

  it('refuses addresses and names the policy does not allow before connecting', async () => {
    for (const url of ['http://10.0.0.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://127.0.0.2/x']) {
      await expect(fetcher.fetch(url)).rejects.toThrow('is not a public address');
    }
    await expect(fetcher.fetch('http://localhost.invalid/x')).rejects.toThrow('names a host that does not resolve');
  });

  it('refuses what is not an http(s) URL without credentials', async () => {
    await expect(fetcher.fetch('file:///etc/passwd')).rejects.toThrow('must be an http or https URL');
    await expect(fetcher.fetch('http://user:pw@127.0.0.1/x')).rejects.toThrow('must not carry credentials');
    await expect(fetcher.fetch('not a url')).rejects.toThrow('is not a valid URL');
  });

  it('gives up on a server that trickles bytes', async () => {
    await expect(read(`${base}/trickle`)).rejects.toThrow(/did not deliver the file within 0.5 s/);
  });
});
