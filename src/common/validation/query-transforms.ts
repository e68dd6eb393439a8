import { Transform } from 'class-transformer';

/** Query strings are text: turn `"42"` into 42 and leave anything else for the validator to reject. */
export const ToInteger = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value));

/** `"true"`/`"false"` in a query become booleans; anything else is left to fail validation. */
export const ToBoolean = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
