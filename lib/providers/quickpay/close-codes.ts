// The Pusher protocol's close and error codes [related: Pusher protocol][related: pusher-js], and
// what each means for a person looking at the node's status: which side must change something.

export type CloseClass = 'tls_only' | 'refused' | 'backoff' | 'retry' | 'other';

/** As pusher-js's Protocol.getCloseAction, so the adapter and pusher-js agree on who reconnects. */
export function closeClass(code: number): CloseClass {
  if (code === 4000) return 'tls_only';
  if (code > 4000 && code < 4100) return 'refused';
  if (code >= 4100 && code < 4200) return 'backoff';
  if (code >= 4200 && code < 4300) return 'retry';
  // pusher-js treats unknown codes >= 4300 as refused: it stops.
  if (code >= 4300) return 'refused';
  return 'other';
}

const FIX: Record<number, string> = {
  4001: 'the app key is not known there: use QuickPay\'s app key (pagCMLx6TXrb) and check the environment or URL',
  4003: 'the application is disabled: contact QuickPay',
  4004: 'the connection quota is used up: close other connections or contact QuickPay',
  4005: 'the path was not found: a custom URL must be a base such as wss://host:port, without /app/<key>',
  4006: 'the protocol version was not understood: the server does not speak the Pusher protocol as pusher-js does',
  4007: 'the protocol version is not supported: the server does not speak Pusher protocol 7',
  4008: 'no protocol version was given: check that a proxy keeps the query string',
  4009: 'the connection is not authorised: check the API key, the private key and the merchant id',
};

/** The state reason after a refusal: the code, the server's words, what to fix. */
export function refusalReason(code: number, message: string | undefined): string {
  const said = message ? ` ${oneLine(message)}` : '';
  const fix = FIX[code] ?? (code >= 4300 ? 'the server gave a code pusher-js does not retry; check the server\'s logs or contact QuickPay' : 'check the app key, the environment and the URL');
  return `QuickPay refused the connection (${code}${said}): ${fix}`;
}

/** 4009 is the one refusal that is about credentials. */
export const isUnauthorizedCode = (code: number): boolean => code === 4009;

export function oneLine(text: string, max = 120): string {
  const flat = String(text).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
