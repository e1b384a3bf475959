// RFC 7807 problem details, the error shape of every Dojo REST endpoint (protocol notes 9).
// Dojo's API is ASP.NET-style (`traceId`, `errors` keyed by field), so the `type` URIs and the
// validation title follow ASP.NET's defaults [inferred]. `errors` is always present, `{}` when no
// field is at fault, because ProblemDetailsTerminals lists it as required.

import { randomBytes } from 'node:crypto';
import type { CounterResponse } from './types';

export type FieldErrors = Record<string, string[]>;

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
};

const TYPES: Readonly<Record<number, string>> = {
  400: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
  404: 'https://tools.ietf.org/html/rfc9110#section-15.5.5',
  405: 'https://tools.ietf.org/html/rfc9110#section-15.5.6',
  409: 'https://tools.ietf.org/html/rfc9110#section-15.5.10',
  422: 'https://tools.ietf.org/html/rfc9110#section-15.5.21',
  500: 'https://tools.ietf.org/html/rfc9110#section-15.6.1',
};

export const VALIDATION_TITLE = 'One or more validation errors occurred.';

/** Thrown by route handlers; the router turns it into the response. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldErrors = {},
    readonly title: string = TITLES[status] ?? 'Error',
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export function problemResponse(status: number, detail: string, errors: FieldErrors = {}, title?: string): CounterResponse {
  return {
    status,
    body: {
      type: TYPES[status] ?? 'about:blank',
      title: title ?? TITLES[status] ?? 'Error',
      status,
      detail,
      traceId: traceId(),
      errors,
    },
  };
}

export function toResponse(err: ProblemError): CounterResponse {
  return problemResponse(err.status, err.detail, err.errors, err.title);
}

export const badRequest = (detail: string, errors: FieldErrors = {}): ProblemError =>
  new ProblemError(400, detail, errors, Object.keys(errors).length > 0 ? VALIDATION_TITLE : TITLES[400]);
export const notFound = (detail: string): ProblemError => new ProblemError(404, detail);
export const conflict = (detail: string): ProblemError => new ProblemError(409, detail);
export const unprocessable = (detail: string): ProblemError => new ProblemError(422, detail);

/** W3C trace-context style, as ASP.NET puts in `traceId`. */
function traceId(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}
