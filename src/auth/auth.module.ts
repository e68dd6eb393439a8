import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuthenticationService } from './authentication.service';
import { CapabilityGuard } from './capability.guard';
import { JwtStrategy } from './jwt/jwt.strategy';
import { RateLimitService } from './rate-limit/rate-limit.service';
import { RequestAuthenticator } from './request-authenticator';

/** Who may call what: credentials (API keys, login JWTs), rate limits and the global guard. */
@Module({
  imports: [ApiKeysModule],
  controllers: [ApiKeysController],
  providers: [
    JwtStrategy,
    AuthenticationService,
    RateLimitService,
    RequestAuthenticator,
    { provide: APP_GUARD, useClass: CapabilityGuard },
  ],
  exports: [ApiKeysModule, RequestAuthenticator],
})
export class AuthModule {}
