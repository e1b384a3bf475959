// Packages the pack can use but does not install for everyone, because only some setups need
// them (the Socket.IO 2 client for a provider server still on Socket.IO 2). When one is
// missing, the person sees what to install and where, never a stack trace.

/** The module is not installed; `message` says what to run. */
export class MissingModuleError extends Error {
  constructor(readonly moduleName: string, readonly install: string, what: string) {
    super(`${what} needs the optional package "${moduleName}", which is not installed: run \`${install}\` ` +
      'in the Node-RED user directory (usually ~/.node-red), then restart Node-RED');
    this.name = 'MissingModuleError';
  }
}

type Loader = (id: string) => unknown;

/**
 * Loads `name` (resolved from this package's own location, so a package installed beside the
 * pack in the user directory is found). Only "this very module is not installed" becomes a
 * MissingModuleError; any other failure, such as a broken install of it, is rethrown as is.
 */
export function requireOptional<T>(name: string, install: string, what: string, load: Loader = require): T {
  try {
    return load(name) as T;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${name}'`)) {
      throw new MissingModuleError(name, install, what);
    }
    throw err;
  }
}
