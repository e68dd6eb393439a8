import { ConfigError, loadConfig } from '../../src/config/app-config';

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      jwt: undefined,
      waProvider: 'baileys',
      rateLimitPerMinute: 1200,
      authFailureLimitPerMinute: 60,
      metricsToken: undefined,
      media: { store: 'fs', maxBytes: 64 * 1024 * 1024, autoDownloadMaxBytes: 16 * 1024 * 1024, allowPrivateUrls: false },
      databaseStatementTimeoutMs: 15_000,
      databaseLockTimeoutMs: 5_000,
      eventRetentionHours: 168,
    });
  });

  it('reads the S3 store with its region from AWS_REGION when S3_REGION is unset', () => {
    expect(loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'media', AWS_REGION: 'eu-west-1' }).media.s3).toEqual({
      bucket: 'media',
      region: 'eu-west-1',
      forcePathStyle: false,
    });
    expect(
      loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'm', S3_REGION: 'auto', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'true' }).media.s3,
    ).toEqual({ bucket: 'm', region: 'auto', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ AUTH_JWKS_URL: 'https://id.example.com/jwks' }, 'AUTH_JWT_ISSUER'],
    [{ AUTH_JWKS_URL: 'https://id.example.com/jwks', AUTH_JWT_ISSUER: 'x' }, 'AUTH_JWT_AUDIENCE'],
    [{ AUTH_JWKS_URL: 'ftp://id.example.com/jwks' }, 'AUTH_JWKS_URL'],
    [{ WA_PROVIDER: 'other' }, 'WA_PROVIDER'],
    [{ SESSION_ENCRYPTION_KEY: 'short' }, 'SESSION_ENCRYPTION_KEY'],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ MEDIA_STORE: 'gcs' }, 'MEDIA_STORE'],
    [{ MEDIA_STORE: 's3' }, 'S3_BUCKET'],
    [{ MEDIA_STORE: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT'],
    [{ MEDIA_STORE: 's3', S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE'],
    [{ MEDIA_MAX_BYTES: '0' }, 'MEDIA_MAX_BYTES'],
    [{ MEDIA_AUTO_DOWNLOAD_MAX_BYTES: '16M' }, 'MEDIA_AUTO_DOWNLOAD_MAX_BYTES'],
    [{ MEDIA_ALLOW_PRIVATE_URLS: '1' }, 'MEDIA_ALLOW_PRIVATE_URLS'],
    [{ DB_STATEMENT_TIMEOUT_MS: '1.5' }, 'DB_STATEMENT_TIMEOUT_MS'],
    [{ DB_LOCK_TIMEOUT_MS: 'soon' }, 'DB_LOCK_TIMEOUT_MS'],
    [{ EVENT_RETENTION_HOURS: '0' }, 'EVENT_RETENTION_HOURS'],
    [{ EVENT_RETENTION_HOURS: '1.5' }, 'EVENT_RETENTION_HOURS'],
  ])('names the bad variable in %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable} `));
  });

  it('accepts a 32-byte encryption key as hex or base64', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ SESSION_ENCRYPTION_KEY: hex }).sessionEncryptionKey).toEqual(Buffer.from(hex, 'hex'));
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ SESSION_ENCRYPTION_KEY: b64 }).sessionEncryptionKey).toEqual(Buffer.alloc(32, 7));
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['1', 1],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
  ])('%s → %j', (value, expected) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it('names the variable when it is malformed', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'x; rm -rf' })).toThrow(/^invalid configuration: TRUST_PROXY /);
  });
});

describe('webhook settings', () => {
  it('defaults to public receivers only, 10 s and 8 deliveries in flight per webhook', () => {
    expect(loadConfig({})).toMatchObject({ webhookAllowPrivateUrls: false, webhookTimeoutMs: 10_000, webhookConcurrency: 8 });
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '2500', WEBHOOK_CONCURRENCY: '2' })).toMatchObject({
      webhookAllowPrivateUrls: true,
      webhookTimeoutMs: 2500,
      webhookConcurrency: 2,
    });
  });

  it.each([
    [{ WEBHOOK_ALLOW_PRIVATE_URLS: 'yes' }, 'WEBHOOK_ALLOW_PRIVATE_URLS'],
    [{ WEBHOOK_TIMEOUT_MS: '0' }, 'WEBHOOK_TIMEOUT_MS'],
    [{ WEBHOOK_TIMEOUT_MS: '10s' }, 'WEBHOOK_TIMEOUT_MS'],
    [{ WEBHOOK_CONCURRENCY: '0' }, 'WEBHOOK_CONCURRENCY'],
  ])('names the bad variable in %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable} `));
  });
});

describe('number lookup rate', () => {
  it('defaults to 60 numbers a minute per session; 0 turns the limit off', () => {
    expect(loadConfig({}).lookupRatePerMinute).toBe(60);
    expect(loadConfig({ LOOKUP_RATE_PER_MINUTE: '3' }).lookupRatePerMinute).toBe(3);
    expect(loadConfig({ LOOKUP_RATE_PER_MINUTE: '0' }).lookupRatePerMinute).toBe(0);
  });

  it.each(['-1', '1.5', 'sixty'])('names the variable for %j', (value) => {
    expect(() => loadConfig({ LOOKUP_RATE_PER_MINUTE: value })).toThrow(/^invalid configuration: LOOKUP_RATE_PER_MINUTE /);
  });
});
