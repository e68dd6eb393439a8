import { Injectable } from '@nestjs/common';
import { Response } from 'express';
import { RateLimitedError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { Caller } from '../caller.decorator';
import { FixedWindowCounter, WindowState } from './fixed-window-counter';

function headersOf(state: WindowState): Record<string, string> {
  return {
    'RateLimit-Limit': String(state.limit),
    'RateLimit-Remaining': String(state.remaining),
    'RateLimit-Reset': String(state.resetSeconds),
  };
}

function rateLimited(state: WindowState): RateLimitedError {
  return new RateLimitedError(state.resetSeconds, headersOf(state));
}

/**
 * The two limits of the contract, in memory and per replica: requests per credential per
 * minute, and failed authentications per client IP per minute. A limit of 0 is off.
 */
@Injectable()
export class RateLimitService {
  private readonly perCredential?: FixedWindowCounter;
  private readonly failuresPerIp?: FixedWindowCounter;

  constructor(config: AppConfig) {
    if (config.rateLimitPerMinute > 0) this.perCredential = new FixedWindowCounter(config.rateLimitPerMinute);
    if (config.authFailureLimitPerMinute > 0) {
      this.failuresPerIp = new FixedWindowCounter(config.authFailureLimitPerMinute);
    }
  }

  /**
   * Counts one request of an authenticated caller and tells the client its budget in the
   * `RateLimit-*` headers; past the budget, throws 429.
   */
  consume(caller: Caller, res: Response): void {
    if (!this.perCredential) return;
    const state = this.perCredential.hit(`${caller.kind}:${caller.orgId}:${caller.subject}`);
    if (state.exceeded) throw rateLimited(state);
    res.setHeader('RateLimit-Limit', state.limit);
    res.setHeader('RateLimit-Remaining', state.remaining);
    res.setHeader('RateLimit-Reset', state.resetSeconds);
  }

  /** The IP has used up its failed authentications for this window. */
  isBlocked(ip: string): boolean {
    return this.failuresPerIp ? this.failuresPerIp.peek(ip).remaining === 0 : false;
  }

  /** Counts a failed authentication; throws 429 once the IP is past its limit (a blocked IP at once). */
  recordFailure(ip: string): void {
    if (!this.failuresPerIp) return;
    const state = this.failuresPerIp.hit(ip);
    if (state.exceeded) throw rateLimited(state);
  }
}
