import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { Request, Response } from 'express';
import { Logger } from 'pino';
import { RequestWithId } from '../http/request-id.middleware';
import { LOGGER } from '../logging/logging.module';
import { AppError, ErrorCode } from './app-error';
import { databaseRefusedValue, isDatabaseUnavailable } from './database-errors';
import { envelope } from './envelope';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  422: 'validation_error',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * The single place where anything thrown becomes the contract's error envelope: domain errors,
 * Nest's own HTTP exceptions (unknown route, body parser), database outages and bugs.
 */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const error = this.toAppError(exception, req);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(error.status).set(error.headers).json(envelope(error.code, error.message, error.details));
  }

  private toAppError(exception: unknown, req: Request): AppError {
    if (exception instanceof AppError) return exception;
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ err: exception }, 'database unavailable');
      return new AppError('unavailable', 'database unavailable', {}, { 'Retry-After': '5' });
    }
    const refused = databaseRefusedValue(exception);
    if (refused) {
      // Logged: the value got past validation, which is a gap to close.
      this.logger.warn({ err: exception, method: req.method, url: req.originalUrl }, 'database refused a value');
      return new AppError('validation_error', refused);
    }
    const bodyParserError = this.fromBodyParser(exception);
    if (bodyParserError) return bodyParserError;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === Number(HttpStatus.BAD_REQUEST)) {
        // Nest maps body-parser's SyntaxError and Express's URIError to 400; the contract has no 400.
        const badUrl = exception.message.startsWith('Failed to decode param');
        return new AppError('validation_error', badUrl ? 'malformed URL encoding' : 'malformed JSON body');
      }
      const code = CODE_BY_STATUS[status];
      if (code === 'not_found' && /^Cannot [A-Z]+ /.test(exception.message)) {
        return new AppError('not_found', 'route not found');
      }
      if (code === 'unauthorized') {
        return new AppError('unauthorized', 'missing or invalid credential', {}, { 'WWW-Authenticate': 'Bearer' });
      }
      if (code) return new AppError(code, exception.message);
    }
    const errorId = (req as RequestWithId).id;
    this.logger.error({ err: exception, errorId, method: req.method, url: req.originalUrl }, 'unhandled error');
    return new AppError('internal_error', 'internal error', { errorId });
  }

  /** Errors raised by the JSON body parser before any route runs. */
  private fromBodyParser(exception: unknown): AppError | undefined {
    if (typeof exception !== 'object' || exception === null) return undefined;
    const type = (exception as { type?: unknown }).type;
    switch (type) {
      case 'entity.too.large':
        return new AppError('payload_too_large', 'request body too large', {
          limitBytes: (exception as { limit?: number }).limit,
        });
      case 'entity.parse.failed':
        return new AppError('validation_error', 'malformed JSON body', {});
      case 'charset.unsupported':
      case 'encoding.unsupported':
        return new AppError('validation_error', 'unsupported body encoding', {});
      case 'request.aborted':
      case 'request.size.invalid':
        return new AppError('validation_error', 'request body incomplete', {});
      default:
        return undefined;
    }
  }
}
