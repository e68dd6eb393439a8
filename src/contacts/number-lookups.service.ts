import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { SessionsService } from '../sessions/sessions.service';
import { NumberLookup } from '../whatsapp/whatsapp-provider';
import { DirectoryActions } from './directory-actions.service';
import { LookupBudget } from './lookup-budget';
import { NumberLookupListDto } from './lookup-numbers.dto';
import { NumberLookupsRepository } from './number-lookups.repository';

const LOOKUP = 'lookup';

/** What the holder answers: the numbers it asked WhatsApp about, and when the rest may be asked. */
interface LookupAnswer {
  results: NumberLookup[];
  /** Set when the session's budget did not cover every number. */
  retryAfterSeconds: number | null;
}

@Injectable()
export class NumberLookupsService implements OnModuleInit {
  private readonly budget: LookupBudget;

  constructor(
    private readonly sessions: SessionsService,
    private readonly actions: DirectoryActions,
    private readonly lookups: NumberLookupsRepository,
    private readonly config: AppConfig,
  ) {
    this.budget = new LookupBudget(config.lookupRatePerMinute);
  }

  onModuleInit(): void {
    // On the holder: the one place a session's lookups are counted.
    this.actions.define<string[], LookupAnswer>(LOOKUP, async (provider, session, phoneNumbers) => {
      const { granted, retryAfterSeconds } = this.budget.take(session.id, phoneNumbers.length);
      const asked = phoneNumbers.slice(0, granted);
      const results = asked.length > 0 ? await provider.lookupNumbers(session, asked) : [];
      await this.lookups.store(session.id, results);
      return { results, retryAfterSeconds: granted < phoneNumbers.length ? retryAfterSeconds : null };
    });
  }

  /**
   * Which numbers have a WhatsApp account, in the order asked. Answers younger than a day come
   * from the cache; the rest are asked of WhatsApp within the session's per-minute budget. When
   * the budget does not cover them all, those it covers are asked and cached and the request is
   * 429 with `Retry-After`: retried then, it finds them cached and asks the rest.
   */
  async lookup(orgId: string, sessionId: string, phoneNumbers: string[]): Promise<NumberLookupListDto> {
    const session = await this.sessions.findOwned(orgId, sessionId);
    const known = new Map((await this.lookups.fresh(session.id, phoneNumbers)).map((lookup) => [lookup.phoneNumber, lookup]));
    const unknown = phoneNumbers.filter((phoneNumber) => !known.has(phoneNumber));
    if (unknown.length > 0) {
      const answer = await this.actions.run<LookupAnswer>(session, LOOKUP, unknown);
      for (const result of answer.results) known.set(result.phoneNumber, result);
      if (answer.retryAfterSeconds !== null) {
        throw new AppError(
          'rate_limited',
          'this session has asked WhatsApp about as many numbers as it may this minute',
          { limitPerMinute: this.config.lookupRatePerMinute },
          { 'Retry-After': String(answer.retryAfterSeconds) },
        );
      }
    }
    return { data: phoneNumbers.map((phoneNumber) => known.get(phoneNumber)!) };
  }
}
