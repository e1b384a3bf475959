// One error type for everything a flow can see through done(err): a stable code for Catch
// nodes and tests, and a message written for the person reading the Debug sidebar.

const CODES = [
  'bad_input', 'not_connected', 'unauthorized', 'capability_missing', 'protocol_error', 'timeout', 'provider_error', 'not_found',
  'journal_unavailable', 'standby', 'displaced', 'closed',
] as const;

export type PosErrorCode = (typeof CODES)[number];

/** For codes that travel as text (from another instance through the shared journal). */
export const isPosErrorCode = (code: string): code is PosErrorCode => (CODES as readonly string[]).includes(code);

export class PosError extends Error {
  readonly code: PosErrorCode;
  readonly details?: unknown;

  constructor(code: PosErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'PosError';
    this.code = code;
    this.details = details;
  }

  /**
   * The sentence alone. Node-RED builds a Catch node's msg.error.message, its log line and the
   * Debug sidebar's error text from toString(), which for an Error is "name: message": people
   * read "PosError: amount must be ..." there. The class name stays in `name` (and the stack)
   * for developers; `code` says which error it is.
   */
  override toString(): string {
    return this.message;
  }
}

export const isPosError = (e: unknown): e is PosError => e instanceof PosError;
