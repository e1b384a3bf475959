// Reading the gateway's error frames, whose JSON shape is not documented [inferred]: an
// {"action":"error"} frame, or any frame carrying one of the four documented message texts.

import { DOCUMENTED_ERROR_TEXTS, WS_ERRORS, type WireErrorFrame } from './wire';

export function carriesDocumentedError(frame: Record<string, unknown>): boolean {
  const texts = [frame.message, frame.error, frame.errorMessage, isObject(frame.error) ? frame.error.message : undefined];
  return texts.some((t) => typeof t === 'string' && DOCUMENTED_ERROR_TEXTS.some((d) => t.includes(d)));
}

export function errorParts(e: WireErrorFrame): { category?: string; message: string } {
  const nested = isObject(e.error) ? e.error : undefined;
  const message = [e.message, nested?.message, e.errorMessage, typeof e.error === 'string' ? e.error : undefined]
    .find((t): t is string => typeof t === 'string' && t !== '') ?? 'the gateway gave no reason';
  const category = typeof e.error === 'string' && e.error !== message ? e.error : typeof nested?.error === 'string' ? nested.error : undefined;
  return { ...(category ? { category: category.slice(0, 60) } : {}), message: message.slice(0, 300) };
}

export function errorHint(message: string): string {
  if (message.includes(WS_ERRORS.terminalNotFound.message)) return ' (the terminal is not connected to the gateway: check that it is on, and that the id is its deviceId from the terminals list)';
  if (message.includes(WS_ERRORS.groupMismatch.message)) return ' (the terminal belongs to a different group than this connection\'s group id)';
  return '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
