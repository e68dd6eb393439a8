import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError } from '../errors/app-error';

export type FieldErrors = Record<string, string[]>;

/** Flattens class-validator's tree into `{"a.b.0.c": ["…"]}`. */
export function flattenErrors(errors: ClassValidatorError[], prefix = '', out: FieldErrors = {}): FieldErrors {
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) {
      out[path] = Object.values(error.constraints).map((message) =>
        message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message,
      );
    }
    if (error.children?.length) flattenErrors(error.children, path, out);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates bodies and queries against their DTO class, strictly: a body must be a JSON object,
 * unknown properties are rejected and nothing is converted implicitly (`"true"` is not a
 * boolean). Query DTOs convert their own string values with explicit `@Transform`s.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype, type } = metadata;
    if ((type !== 'body' && type !== 'query') || !metatype || isBuiltIn(metatype)) return value;
    if (!isPlainObject(value)) {
      throw new ValidationError('request body must be a JSON object', { fields: { body: ['must be a JSON object'] } });
    }
    rejectHostileShapes(value);
    const instance = plainToInstance(metatype as new () => object, value, { enableImplicitConversion: false });
    const errors = await validate(instance, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    });
    if (errors.length > 0) {
      throw new ValidationError('request validation failed', { fields: flattenErrors(errors) });
    }
    return instance;
  }
}

/** No body of this API nests deeper; class-transformer recurses without a limit and would overflow. */
const MAX_DEPTH = 16;
/** Keys that class-transformer and class-validator treat specially, so whitelisting misses them. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function rejectHostileShapes(value: unknown, path = '', depth = 0): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth >= MAX_DEPTH) {
    throw new ValidationError('request body is nested too deeply', { fields: { [path]: [`nests deeper than ${MAX_DEPTH} levels`] } });
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (RESERVED_KEYS.has(key)) {
      throw new ValidationError('request validation failed', { fields: { [childPath]: ['property should not exist'] } });
    }
    rejectHostileShapes(child, childPath, depth + 1);
  }
}

function isBuiltIn(metatype: unknown): boolean {
  return [String, Boolean, Number, Array, Object].includes(metatype as never);
}
