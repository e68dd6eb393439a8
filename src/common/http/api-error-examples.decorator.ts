import { ApiResponse } from '@nestjs/swagger';
import { ErrorCode, ERROR_STATUS } from '../errors/app-error';
import { envelope } from '../errors/envelope';
import { ErrorEnvelopeDto } from '../errors/error-envelope.dto';

export interface ErrorExample {
  summary: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Documents one error status of an operation whose causes differ (a 409 for two reasons), with an
 * example envelope for each; `ApiErrorResponses` covers the single-cause case.
 */
export function ApiErrorExamples(
  code: ErrorCode,
  description: string,
  examples: Record<string, ErrorExample>,
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status: ERROR_STATUS[code],
    type: ErrorEnvelopeDto,
    description: `\`${code}\`: ${description}`,
    examples: Object.fromEntries(
      Object.entries(examples).map(([name, e]) => [name, { summary: e.summary, value: envelope(code, e.message, e.details) }]),
    ),
  });
}
