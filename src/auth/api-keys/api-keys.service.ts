import { timingSafeEqual } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Logger } from 'pino';
import { ulid } from 'ulid';
import { ForbiddenError, NotFoundError } from '../../common/errors/app-error';
import { LOGGER } from '../../common/logging/logging.module';
import { decodePosition, encodePosition, MAX_DATE_MS } from '../../common/pagination/keyset-position';
import { Page, toPage } from '../../common/pagination/page';
import { Caller } from '../caller.decorator';
import { Capability } from '../capability';
import { ApiKeyDto, CreatedApiKeyDto, toApiKeyDto } from './api-key.dto';
import { ApiKeyEntity } from './api-key.entity';
import { generateApiKey, hashApiKey, isApiKeyId, isWellFormedApiKey } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';

/**
 * How long a verified key is trusted without asking the database again. Revocation on this
 * replica drops it at once; other replicas see it within this time (the contract allows 5 s).
 */
const CACHE_TTL_MS = 4000;
const CACHE_MAX_ENTRIES = 10_000;
const LAST_USED_FLUSH_MS = 10_000;

/** What the operator CLI lists: a key with its organization. */
export interface OperatorApiKeyView extends ApiKeyDto {
  orgId: string;
}

interface CachedKey {
  caller: Caller;
  hash: Buffer;
  expiresAt: number;
}

const keyNotFound = (): NotFoundError => new NotFoundError('api key not found');

@Injectable()
export class ApiKeysService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly cache = new Map<string, CachedKey>();
  private readonly lastUsed = new Map<string, Date>();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(
    private readonly repository: ApiKeysRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_MS).unref();
  }

  /** Creates a key for `orgId`. `grantor` (when given) must hold every capability asked for. */
  async create(
    orgId: string,
    input: { name: string; capabilities: Capability[] },
    grantor?: Caller,
  ): Promise<CreatedApiKeyDto> {
    if (grantor) {
      const missing = input.capabilities.filter((c) => !grantor.capabilities.includes(c));
      if (missing.length > 0) {
        throw new ForbiddenError(`cannot grant capabilities you do not hold: ${missing.join(', ')}`);
      }
    }
    const generated = generateApiKey();
    const entity: ApiKeyEntity = {
      id: ulid(),
      orgId,
      name: input.name,
      prefix: generated.prefix,
      secretHash: generated.hash,
      capabilities: [...input.capabilities],
      // Set here, at millisecond precision, so that page cursors (epoch ms) are exact.
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.repository.insert(entity);
    const { lastUsedAt: _unused, ...view } = toApiKeyDto(entity);
    return { ...view, key: generated.key };
  }

  /** A page of the organization's active keys, newest first. */
  list(orgId: string, limit: number, cursor?: string): Promise<Page<ApiKeyDto>> {
    return this.page(orgId, limit, cursor, toApiKeyDto);
  }

  /** Revokes one of the organization's keys; another organization's key is "not found". */
  revoke(orgId: string, id: string): Promise<void> {
    return this.revokeScoped(id, orgId);
  }

  /** The operator's view (CLI): one organization's keys, or every organization's. */
  listForOperator(orgId: string | undefined, limit: number, cursor?: string): Promise<Page<OperatorApiKeyView>> {
    return this.page(orgId, limit, cursor, (key) => ({ ...toApiKeyDto(key), orgId: key.orgId }));
  }

  /** The operator's revocation (CLI): by id alone, or only within `orgId` when given. */
  revokeForOperator(id: string, orgId?: string): Promise<void> {
    return this.revokeScoped(id, orgId);
  }

  /**
   * The caller a key stands for, or null when it is malformed, unknown or revoked. `offline`
   * answers from the cache only: no database query.
   */
  async authenticate(token: string, offline = false): Promise<Caller | null> {
    if (!isWellFormedApiKey(token)) return null;
    const hash = hashApiKey(token);
    const cacheKey = hash.toString('base64');
    const now = Date.now();
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > now && timingSafeEqual(cached.hash, hash)) {
      this.lastUsed.set(cached.caller.subject, new Date(now));
      return cached.caller;
    }
    if (offline) return null;
    const key = await this.repository.findActiveByHash(hash);
    if (!key || !timingSafeEqual(key.secretHash, hash)) {
      this.cache.delete(cacheKey);
      return null;
    }
    const caller: Caller = { kind: 'api_key', orgId: key.orgId, subject: key.id, capabilities: key.capabilities };
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
    this.cache.set(cacheKey, { caller, hash, expiresAt: now + CACHE_TTL_MS });
    this.lastUsed.set(key.id, new Date(now));
    return caller;
  }

  /** `last_used_at` is written in batches, never once per request. */
  async flushLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = new Map(this.lastUsed);
    this.lastUsed.clear();
    try {
      await this.repository.touch(batch);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not record API key use; will retry');
      for (const [id, at] of batch) if (!this.lastUsed.has(id)) this.lastUsed.set(id, at);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.flushTimer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flushLastUsed();
  }

  private async page<T>(
    orgId: string | undefined,
    limit: number,
    cursor: string | undefined,
    map: (key: ApiKeyEntity) => T,
  ): Promise<Page<T>> {
    const after = cursor ? decodePosition(cursor, isApiKeyId, 0, MAX_DATE_MS) : undefined;
    const rows = await this.repository.listPage(
      orgId,
      limit + 1,
      after && { createdAt: new Date(after[0]), id: after[1] },
    );
    return toPage(rows, limit, map, (k) => encodePosition(k.createdAt.getTime(), k.id));
  }

  private async revokeScoped(id: string, orgId: string | undefined): Promise<void> {
    if (!isApiKeyId(id) || !(await this.repository.revoke(id, orgId))) throw keyNotFound();
    for (const [hash, cached] of this.cache) {
      if (cached.caller.subject === id) this.cache.delete(hash);
    }
  }
}
