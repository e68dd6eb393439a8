import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { SessionsService } from '../sessions/sessions.service';
import { NumberLookup } from '../whatsapp/whatsapp-provider';
import { DirectoryActions } from './directory-actions.service';
import { NumberLookupListDto } from './lookup-numbers.dto';
import { NumberLookupsRepository } from './number-lookups.repository';

const LOOKUP = 'lookup';

/** What the holder answers: WhatsApp's answers, or (nothing asked) when the session may ask again. */
type LookupAnswer = { results: NumberLookup[] } | { retryAfterSeconds: number };

@Injectable()
export class NumberLookupsService implements OnModuleInit {
  constructor(
    private readonly sessions: SessionsService,
    private readonly actions: DirectoryActions,
    private readonly lookups: NumberLookupsRepository,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // Where WhatsApp is asked (the holder; for an `external` session, any replica): counted just before.
    this.actions.define<string[], LookupAnswer>(LOOKUP, async (provider, session, phoneNumbers) => {
      const limit = this.config.lookupRatePerMinute;
      if (limit > 0) {
        const { granted, retryAfterSeconds } = await this.lookups.takeBudget(session.id, phoneNumbers.length, limit);
        if (!granted) return { retryAfterSeconds };
      }
      const results = await provider.lookupNumbers(session, phoneNumbers);
      await this.lookups.store(session.id, results);
      return { results };
    });
  }

  /**
   * Which numbers have a WhatsApp account, in the order asked. Answers younger than a day come
   * from the cache; the rest are asked of WhatsApp within the session's per-minute budget. When
   * the budget cannot cover all of them, nothing is asked and the whole request is 429 with
   * `Retry-After` (a refused request changes nothing); one whose numbers are all cached is answered.
   */
  async lookup(orgId: string, sessionId: string, phoneNumbers: string[]): Promise<NumberLookupListDto> {
    const session = await this.sessions.findOwned(orgId, sessionId);
    const known = new Map((await this.lookups.fresh(session.id, phoneNumbers)).map((lookup) => [lookup.phoneNumber, lookup]));
    const unknown = phoneNumbers.filter((phoneNumber) => !known.has(phoneNumber));
    if (unknown.length > 0) {
      const answer = await this.actions.run<LookupAnswer>(session, LOOKUP, unknown);
      if ('retryAfterSeconds' in answer) {
        throw new AppError(
          'rate_limited',
          'the numbers not cached are more than this session may still ask WhatsApp about this minute',
          { limitPerMinute: this.config.lookupRatePerMinute },
          { 'Retry-After': String(answer.retryAfterSeconds) },
        );
      }
      for (const result of answer.results) known.set(result.phoneNumber, result);
    }
    return { data: phoneNumbers.map((phoneNumber) => known.get(phoneNumber)!) };
  }
}
