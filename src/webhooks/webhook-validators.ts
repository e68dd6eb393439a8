import { ValidateBy, ValidateIf, ValidationArguments } from 'class-validator';
import { isUlid } from '../common/ulid';
import { urlFormProblem } from './webhook-url-guard';

/** An absolute http(s) URL without credentials (API.md §7); where it points is checked by the service. */
export const WebhookUrl = (): PropertyDecorator =>
  ValidateBy({
    name: 'webhookUrl',
    validator: {
      validate: (value: unknown) => urlFormProblem(value) === null,
      defaultMessage: (args?: ValidationArguments) => urlFormProblem(args?.value) ?? 'is not a valid URL',
    },
  });

/** Each member is a session id (a ULID); whose session it is, the service checks. */
export const SessionIds = (): PropertyDecorator =>
  ValidateBy(
    {
      name: 'sessionIds',
      validator: { validate: (value: unknown) => typeof value === 'string' && isUlid(value), defaultMessage: () => 'must be session ids' },
    },
    { each: true },
  );

/** `["*"]` subscribes to everything; next to other types it would be ambiguous. */
export const StarAlone = (): PropertyDecorator =>
  ValidateBy({
    name: 'starAlone',
    validator: {
      validate: (value: unknown) => !Array.isArray(value) || !value.includes('*') || value.length === 1,
      defaultMessage: () => 'must be ["*"] alone or a list of event types',
    },
  });

/** Optional, but `null` is a wrong type, not an absent field. */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Optional and nullable. */
export const IfNotNull = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null);
