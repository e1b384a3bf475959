// One ajv instance for the whole library. Schemas are compiled once, when the module that
// declares them loads, never per message.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });

export interface Validator<T> {
  (data: unknown): data is T;
  /** A one-line description of why the last call failed. */
  explain(): string;
}

export function compileSchema<T>(schema: object): Validator<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  const check = ((data: unknown) => validate(data) === true) as Validator<T>;
  check.explain = () => describeErrors(validate.errors);
  return check;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'valid';
  return errors
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}
