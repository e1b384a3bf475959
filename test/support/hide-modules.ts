// Preloaded (node -r) into a child process: the packages named in POS_HIDE_MODULES (comma
// separated) resolve as "not installed", exactly as on a user's machine without them.
import Module from 'node:module';

const hidden = new Set((process.env.POS_HIDE_MODULES ?? '').split(',').filter(Boolean));
type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const resolve = mod._resolveFilename;
mod._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  if (hidden.has(request)) {
    const err = new Error(`Cannot find module '${request}'`) as NodeJS.ErrnoException;
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
