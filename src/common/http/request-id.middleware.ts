import { randomUUID } from 'node:crypto';
import { NextFunction, Request, Response } from 'express';
import { Logger } from 'pino';
import { requestContext } from '../logging/logger';

const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestWithId extends Request {
  id: string;
}

/**
 * Gives every request an id (a sane incoming `X-Request-Id` is kept), echoes it in the response
 * and runs the rest of the request inside a context that log lines read it from. One line per
 * request is written only at debug level: per-request logging is the most expensive thing a
 * lean API does.
 */
export function requestIdMiddleware(logger: Logger) {
  const logRequests = logger.isLevelEnabled('debug');
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && ACCEPTED_ID.test(incoming) ? incoming : randomUUID();
    (req as RequestWithId).id = id;
    res.setHeader('X-Request-Id', id);
    if (logRequests) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        logger.debug({ requestId: id, method: req.method, url: req.originalUrl, status: res.statusCode, ms }, 'request');
      });
    }
    requestContext.run({ requestId: id }, next);
  };
}
