import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { OperationObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { Server } from 'node:http';
import { Duplex } from 'node:stream';
import { Logger } from 'pino';
import { CAPABILITY_EXTENSION } from './auth/access.decorators';
import { RequestAuthenticator } from './auth/request-authenticator';
import { AppModule } from './app.module';
import { envelope } from './common/errors/envelope';
import { ErrorEnvelopeDto } from './common/errors/error-envelope.dto';
import { bodyLimitOf, DEFAULT_BODY_LIMIT_BYTES, streamsItsBody } from './common/http/body-limits';
import { applyHttpConventions } from './common/http/openapi-conventions';
import { requestIdMiddleware } from './common/http/request-id.middleware';
import { PinoNestLogger } from './common/logging/logger';
import { ULID_PATTERN } from './common/ulid';
import { CHAT_ID_SCHEMA } from './chats/chat-id';
import { AppConfig } from './config/app-config';
import { MESSAGE_ID_PATTERN } from './domain/message-id';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';
import { DELIVERY_ID_PATTERN } from './webhooks/delivery-id';

const ULID_SCHEMA = { type: 'string', pattern: ULID_PATTERN.source, minLength: 26, maxLength: 26 } as const;

/** Every path parameter of the API with the bounds its ids have; the document applies them by name. */
const PATH_PARAMETERS = {
  sid: ULID_SCHEMA,
  id: ULID_SCHEMA,
  cid: CHAT_ID_SCHEMA,
  // A person or a group (API.md §10): the JIDs a chat can have.
  jid: CHAT_ID_SCHEMA,
  mid: { type: 'string', pattern: MESSAGE_ID_PATTERN.source, minLength: 1, maxLength: 128 },
  did: { type: 'string', pattern: DELIVERY_ID_PATTERN.source, minLength: 5, maxLength: 22 },
} as const;

/**
 * Builds the OpenAPI document, with each operation's required capability in its description and
 * what the HTTP layer does for every route (see `applyHttpConventions`).
 */
export function buildOpenApiDocument(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('WhatsApp Gateway')
    .setDescription(
      'Multi-tenant REST gateway for attached WhatsApp numbers. Every error is the envelope ' +
        '`{"error":{"code","message","details"}}`. Instants are Unix epoch milliseconds.',
    )
    .setVersion('1')
    .addServer('/', 'this gateway')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'A login JWT from the frontend, or an API key (`wgw_…`).' },
      'bearer',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorEnvelopeDto] });
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem) as OperationObject[]) {
      const capability = (operation as unknown as Record<string, unknown>)[CAPABILITY_EXTENSION];
      if (typeof capability === 'string') {
        const requirement = `Requires the \`${capability}\` capability.`;
        operation.description = operation.description ? `${operation.description}\n\n${requirement}` : requirement;
      } else {
        // Said outright, so that a public route is not mistaken for one that forgot its security.
        operation.security = [];
      }
    }
  }
  return applyHttpConventions(document, { bodyLimitOf, pathParameters: PATH_PARAMETERS });
}

/**
 * Requests that Node's HTTP parser rejects (oversized headers, garbage) never reach Express;
 * without this Node answers them with a bare status line and no envelope.
 */
function answerUnparsableRequestsWithTheEnvelope(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, body] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [413, 'Payload Too Large', envelope('payload_too_large', 'request headers too large')]
        : [422, 'Unprocessable Entity', envelope('validation_error', 'malformed HTTP request')];
    const json = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  });
}

/** Creates the gateway exactly as it runs in production; the tests use this too. */
export async function createApp(
  config: AppConfig,
  logger: Logger,
  rootModule: DynamicModule = AppModule.forRoot(config, logger),
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(rootModule, {
    bodyParser: false,
    logger: new PinoNestLogger(logger),
  });
  app.disable('x-powered-by');
  // An ETag costs a hash of every body, and clients page with cursors, not conditional requests.
  app.set('etag', false);
  // Behind a load balancer the client IP (for the failed-authentication limit) is in X-Forwarded-For.
  app.set('trust proxy', config.trustProxy);
  app.use(requestIdMiddleware(logger));
  // Metrics cost a little on every request, so they are only collected when they can be scraped.
  if (config.metricsToken) app.use(httpMetricsMiddleware(app.get(MetricsService)));
  // One JSON parser per body limit, made on first use; the OpenAPI document reads the same limits.
  const parsers = new Map<number, RequestHandler>();
  const authenticator = app.get(RequestAuthenticator);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (streamsItsBody(req.method, req.path)) return next();
    const limit = bodyLimitOf(req.path);
    let parser = parsers.get(limit);
    if (!parser) parsers.set(limit, (parser = express.json({ limit })));
    if (limit <= DEFAULT_BODY_LIMIT_BYTES || req.method !== 'POST') return parser(req, res, next);
    // Only a caller with a valid credential gets a large body parsed. Anyone else is answered
    // before the body is read, and the connection closed rather than the body drained.
    const parse = parser;
    authenticator.callerOf(req).then(
      () => parse(req, res, next),
      (error: unknown) => {
        res.setHeader('Connection', 'close');
        next(error);
      },
    );
  });
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  answerUnparsableRequestsWithTheEnvelope(app.getHttpServer());
  return app;
}
