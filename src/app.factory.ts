import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { OperationObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import express, { NextFunction, Request, Response } from 'express';
import { Server } from 'node:http';
import { Duplex } from 'node:stream';
import { Logger } from 'pino';
import { CAPABILITY_EXTENSION } from './auth/access.decorators';
import { RequestAuthenticator } from './auth/request-authenticator';
import { AppModule } from './app.module';
import { envelope } from './common/errors/envelope';
import { ErrorEnvelopeDto } from './common/errors/error-envelope.dto';
import { requestIdMiddleware } from './common/http/request-id.middleware';
import { PinoNestLogger } from './common/logging/logger';
import { AppConfig } from './config/app-config';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';

const BODY_LIMIT = '1mb';
/** Ingestion batches (up to 1000 events) may be larger than any other body. */
const EVENTS_BODY_LIMIT = '8mb';
const EVENTS_PATH = /^\/api\/v1\/sessions\/[^/]+\/events\/?$/;

/** Builds the OpenAPI document, with each operation's required capability in its description. */
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
  return document;
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
  const eventsParser = express.json({ limit: EVENTS_BODY_LIMIT });
  const defaultParser = express.json({ limit: BODY_LIMIT });
  const authenticator = app.get(RequestAuthenticator);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!EVENTS_PATH.test(req.path)) return defaultParser(req, res, next);
    if (req.method !== 'POST') return eventsParser(req, res, next);
    // Only a caller with a valid credential gets up to 8 MiB parsed. Anyone else is answered
    // before the body is read, and the connection closed rather than the body drained.
    authenticator.callerOf(req).then(
      () => eventsParser(req, res, next),
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
