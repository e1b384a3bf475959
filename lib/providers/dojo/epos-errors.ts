// Dojo's EPOS Data API answers errors as EPOSError { errorType, debugMessage?, traceId? }, never
// as JSON-RPC's { code, message }. Everything a flow or the JSON-RPC peer can reject with is
// turned into one of Dojo's four types here, so no other shape can reach the wire.

import { PosError } from '../../core/errors';
import { InboundError } from '../../core/inbound';
import { JsonRpcError, RPC_ERRORS } from '../../core/jsonrpc';
import { EPOS_ERROR_TYPES } from './schemas';

export interface EposErrorBody {
  errorType: string;
  debugMessage: string;
}

/** debugMessage goes to Dojo (and may show up in their logs or a terminal): short and redacted. */
export const DEBUG_MESSAGE_MAX = 500;

const UNEXPECTED = 'UnexpectedError';

/** A rejection that already carries the EPOSError to send; formatEposRpcError passes it through. */
export class EposRpcError extends JsonRpcError {
  constructor(readonly body: EposErrorBody) {
    // The code never reaches the wire (formatError replaces the whole object); -32000 keeps it a server error.
    super(-32000, body.debugMessage);
    this.name = 'EposRpcError';
  }
}

function bounded(text: string, redact: ((text: string) => string) | undefined): string {
  // Redacted before cutting: a cut could split a secret so the redactor no longer sees it.
  const safe = redact ? redact(text) : text;
  return safe.length > DEBUG_MESSAGE_MAX ? `${safe.slice(0, DEBUG_MESSAGE_MAX - 1)}…` : safe;
}

/** An EPOSError with its debugMessage redacted and bounded. */
export function eposError(errorType: string, debugMessage: string, redact?: (text: string) => string): EposErrorBody {
  return { errorType, debugMessage: bounded(debugMessage, redact) };
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'unprintable value';
  }
}

/** Maps whatever a handler rejected with to Dojo's error vocabulary. */
export function toEposError(err: unknown, redact?: (text: string) => string): EposErrorBody {
  if (err instanceof EposRpcError) return { errorType: err.body.errorType, debugMessage: bounded(err.body.debugMessage, redact) };
  if (err instanceof InboundError) {
    if (EPOS_ERROR_TYPES.includes(err.type)) return { errorType: err.type, debugMessage: bounded(err.message, redact) };
    return {
      errorType: UNEXPECTED,
      debugMessage: bounded(`${err.message} (the flow answered with error type ${JSON.stringify(err.type)}, which Dojo does not know)`, redact),
    };
  }
  if (err instanceof PosError) {
    switch (err.code) {
      case 'not_found':
        return { errorType: 'NotFound', debugMessage: bounded(err.message, redact) };
      case 'bad_input':
        return { errorType: 'InvalidRequest', debugMessage: bounded(err.message, redact) };
      case 'timeout':
        return { errorType: UNEXPECTED, debugMessage: bounded(`no flow answered in time: ${err.message}`, redact) };
      default:
        return { errorType: UNEXPECTED, debugMessage: bounded(err.message, redact) };
    }
  }
  if (err instanceof JsonRpcError) return rpcErrorToEpos(err, redact);
  return { errorType: UNEXPECTED, debugMessage: bounded(messageOf(err), redact) };
}

const INVALID_REQUEST_CODES = new Set<number>([
  RPC_ERRORS.parseError,
  RPC_ERRORS.invalidRequest,
  RPC_ERRORS.methodNotFound,
  RPC_ERRORS.invalidParams,
]);

/** The peer's own errors (parse error, invalid request, ...) in Dojo's shape. */
export function rpcErrorToEpos(err: JsonRpcError, redact?: (text: string) => string): EposErrorBody {
  if (err instanceof EposRpcError) return toEposError(err, redact);
  // Dojo does not say how it wants unknown methods and parse errors answered [inferred]: the fault is in the request.
  const errorType = INVALID_REQUEST_CODES.has(err.code) ? 'InvalidRequest' : UNEXPECTED;
  return { errorType, debugMessage: bounded(err.message, redact) };
}
