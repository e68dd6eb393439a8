import { resolve } from 'node:path';

export type ProviderName = 'baileys' | 'external';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Where media files are kept (API.md §8). */
export interface S3Config {
  bucket: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, R2, Ceph); unset is AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
}

export interface MediaConfig {
  store: 'fs' | 's3';
  /** Set when `store` is `s3`; credentials come from the AWS SDK's usual variables. */
  s3?: S3Config;
  /** Largest file received, sent or uploaded. */
  maxBytes: number;
  /** Incoming files up to this size are downloaded at once, larger ones on first request. */
  autoDownloadMaxBytes: number;
  /** `media.url` sends may fetch from loopback and private addresses (on-premise, tests). */
  allowPrivateUrls: boolean;
}

export interface JwtConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  orgClaim: string;
  roleClaim: string;
}

/**
 * The whole runtime configuration, parsed once at start. It is a class so that it can be the
 * DI token itself: `constructor(private readonly config: AppConfig)`.
 */
export class AppConfig {
  port!: number;
  /** `undefined` means: start the embedded PostgreSQL under `dataDir`. */
  databaseUrl?: string;
  databasePoolSize!: number;
  /** PostgreSQL `statement_timeout` and `lock_timeout` of every pooled connection; 0 = none. */
  databaseStatementTimeoutMs!: number;
  databaseLockTimeoutMs!: number;
  dataDir!: string;
  embeddedPostgresPort!: number;
  jwt?: JwtConfig;
  waProvider!: ProviderName;
  waExternalSendUrl?: string;
  /** 32 raw bytes; `undefined` means a development key is generated under `dataDir`. */
  sessionEncryptionKey?: Buffer;
  rateLimitPerMinute!: number;
  authFailureLimitPerMinute!: number;
  metricsToken?: string;
  /** Express `trust proxy`: which proxies' `X-Forwarded-For` names the client IP. */
  trustProxy!: boolean | number | string;
  logLevel!: LogLevel;
  media!: MediaConfig;
  /** How long events are kept in the event log before they are pruned. */
  eventRetentionHours!: number;
  /** Lets webhooks call loopback, private and other non-public addresses (on-premise receivers, tests). */
  webhookAllowPrivateUrls!: boolean;
  /** How long a webhook receiver has to answer 2xx. */
  webhookTimeoutMs!: number;
  /** Deliveries in flight per webhook in this process. */
  webhookConcurrency!: number;
  /** Numbers a session may ask WhatsApp about per minute (API.md §10), counted in the database for every replica; 0 = no limit. */
  lookupRatePerMinute!: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`invalid configuration: ${variable} ${problem}`);
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be an absolute URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  }
  return raw;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `must be true or false, got "${raw}"`);
  return raw === 'true';
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `must be true or false, got "${raw}"`);
  return raw === 'true';
}

const MIB = 1024 * 1024;

function media(env: Env): MediaConfig {
  const store = oneOf(env, 'MEDIA_STORE', ['fs', 's3'] as const, 'fs');
  let s3: S3Config | undefined;
  if (store === 's3') {
    const bucket = str(env, 'S3_BUCKET');
    if (bucket === undefined) throw new ConfigError('S3_BUCKET', 'is required when MEDIA_STORE is s3');
    const endpoint = url(env, 'S3_ENDPOINT', ['http:', 'https:']);
    s3 = {
      bucket,
      region: str(env, 'S3_REGION') ?? str(env, 'AWS_REGION') ?? 'us-east-1',
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', false),
      ...(endpoint ? { endpoint } : {}),
    };
  }
  return {
    store,
    s3,
    maxBytes: int(env, 'MEDIA_MAX_BYTES', 64 * MIB, 1, 2048 * MIB),
    autoDownloadMaxBytes: int(env, 'MEDIA_AUTO_DOWNLOAD_MAX_BYTES', 16 * MIB, 0, 2048 * MIB),
    allowPrivateUrls: bool(env, 'MEDIA_ALLOW_PRIVATE_URLS', false),
  };
}

function encryptionKey(env: Env): Buffer | undefined {
  const raw = str(env, 'SESSION_ENCRYPTION_KEY');
  if (raw === undefined) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(raw) && key.toString('base64') !== raw)) {
    throw new ConfigError('SESSION_ENCRYPTION_KEY', 'must be 32 bytes as 64 hex digits or base64');
  }
  return key;
}

function jwt(env: Env): JwtConfig | undefined {
  const jwksUrl = url(env, 'AUTH_JWKS_URL', ['http:', 'https:']);
  if (jwksUrl === undefined) return undefined;
  const issuer = str(env, 'AUTH_JWT_ISSUER');
  if (issuer === undefined) throw new ConfigError('AUTH_JWT_ISSUER', 'is required when AUTH_JWKS_URL is set');
  const audience = str(env, 'AUTH_JWT_AUDIENCE');
  if (audience === undefined) throw new ConfigError('AUTH_JWT_AUDIENCE', 'is required when AUTH_JWKS_URL is set');
  return {
    jwksUrl,
    issuer,
    audience,
    orgClaim: str(env, 'AUTH_JWT_ORG_CLAIM') ?? 'org_id',
    roleClaim: str(env, 'AUTH_JWT_ROLE_CLAIM') ?? 'role',
  };
}

function trustProxy(env: Env): boolean | number | string {
  const raw = str(env, 'TRUST_PROXY');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  // Express's names (loopback, linklocal, uniquelocal) and addresses or CIDR ranges, comma-separated.
  if (!/^[\w.:/]+(\s*,\s*[\w.:/]+)*$/.test(raw)) {
    throw new ConfigError('TRUST_PROXY', 'must be true, false, a hop count, or a comma-separated list of addresses/CIDRs');
  }
  return raw;
}

/** Parses and validates the environment; throws a `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env): AppConfig {
  const config = new AppConfig();
  config.port = int(env, 'PORT', 3000, 0, 65535);
  config.databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  config.databasePoolSize = int(env, 'DATABASE_POOL_SIZE', 10, 1, 500);
  config.databaseStatementTimeoutMs = int(env, 'DB_STATEMENT_TIMEOUT_MS', 15_000, 0, 3_600_000);
  config.databaseLockTimeoutMs = int(env, 'DB_LOCK_TIMEOUT_MS', 5_000, 0, 3_600_000);
  config.dataDir = resolve(str(env, 'DATA_DIR') ?? '.data');
  config.embeddedPostgresPort = int(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535);
  config.jwt = jwt(env);
  config.waProvider = oneOf(env, 'WA_PROVIDER', ['baileys', 'external'] as const, 'baileys');
  config.waExternalSendUrl = url(env, 'WA_EXTERNAL_SEND_URL', ['http:', 'https:']);
  config.sessionEncryptionKey = encryptionKey(env);
  config.rateLimitPerMinute = int(env, 'RATE_LIMIT_PER_MINUTE', 1200, 0, 10_000_000);
  config.authFailureLimitPerMinute = int(env, 'AUTH_FAILURE_LIMIT_PER_MINUTE', 60, 0, 10_000_000);
  config.metricsToken = str(env, 'METRICS_TOKEN');
  config.trustProxy = trustProxy(env);
  config.media = media(env);
  config.eventRetentionHours = int(env, 'EVENT_RETENTION_HOURS', 168, 1, 87_600);
  config.logLevel = oneOf(
    env,
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    'info',
  );
  config.webhookAllowPrivateUrls = flag(env, 'WEBHOOK_ALLOW_PRIVATE_URLS', false);
  config.webhookTimeoutMs = int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000);
  config.webhookConcurrency = int(env, 'WEBHOOK_CONCURRENCY', 8, 1, 256);
  config.lookupRatePerMinute = int(env, 'LOOKUP_RATE_PER_MINUTE', 60, 0, 1_000_000);
  return config;
}
