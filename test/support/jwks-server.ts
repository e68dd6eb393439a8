import { createHmac, generateKeyPairSync, KeyObject, randomUUID, sign as cryptoSign } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import jwt, { Algorithm } from 'jsonwebtoken';

export const ISSUER = 'https://login.test.example';
export const AUDIENCE = 'whatsapp-gateway';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newSigningKey(alg: 'RS256' | 'ES256', kid: string = randomUUID()): SigningKey {
  const pair =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, ...pair };
}

/** How the JWKS endpoint behaves: serve the keys, fail with a 500, or never answer. */
export type JwksMode = 'ok' | 'error' | 'hang';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A local identity provider: a JWKS endpoint over HTTP that counts its hits and can be made to
 * fail, hang or go away, plus the signing side to mint tokens for it.
 */
export class JwksServer {
  readonly rsa = newSigningKey('RS256', 'rsa-1');
  readonly ec = newSigningKey('ES256', 'ec-1');
  mode: JwksMode = 'ok';
  hits = 0;
  private server?: Server;
  private port = 0;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  /** The environment that points the gateway at this server. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { AUTH_JWKS_URL: this.url, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, ...extra };
  }

  /** Listens (again, on the same port after `stop()`). */
  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Goes away: connections are refused until `start()`. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** A token signed by `key` (the RSA key by default) with the usual claims, overridable. */
  token(claims: Record<string, unknown> = {}, key: SigningKey = this.rsa, header: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 300, org_id: 'org-1', role: 'owner', ...claims };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name as keyof typeof payload];
    return jwt.sign(payload, key.privateKey, { algorithm: key.alg as Algorithm, header: { alg: key.alg, kid: key.kid, ...header } });
  }

  /** A token with a hand-made header and signature, for what a signing library refuses to make. */
  static raw(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string): string {
    const input = `${b64url(header)}.${b64url(payload)}`;
    return `${input}.${sign(input)}`;
  }

  /** The usual claims, for `raw` tokens. */
  static claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 300, org_id: 'org-1', role: 'owner', ...extra };
  }

  /** HS256 keyed with a public key's PEM: the classic algorithm-confusion forgery. */
  hs256WithPublicKey(key: SigningKey = this.rsa): string {
    const pem = key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    return JwksServer.raw({ alg: 'HS256', typ: 'JWT', kid: key.kid }, JwksServer.claims(), (input) =>
      createHmac('sha256', pem).update(input).digest('base64url'),
    );
  }

  /** An RS256 token whose header names `kid` but which another key signed. */
  forgedWithKid(kid: string): string {
    const other = newSigningKey('RS256');
    return JwksServer.raw({ alg: 'RS256', typ: 'JWT', kid }, JwksServer.claims(), (input) =>
      cryptoSign('sha256', Buffer.from(input), other.privateKey).toString('base64url'),
    );
  }

  private handle(_req: IncomingMessage, res: ServerResponse): void {
    this.hits += 1;
    if (this.mode === 'hang') return;
    if (this.mode === 'error') {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('identity provider is broken');
      return;
    }
    const keys = [this.rsa, this.ec].map((k) => ({
      ...(k.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
      kid: k.kid,
      alg: k.alg,
      use: 'sig',
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys }));
  }
}
