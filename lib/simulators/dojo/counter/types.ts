// The contract between the pay-at-counter half of the Dojo simulator and the simulator's HTTP
// server (which authenticates, then hands the request here) and the EPOS Data half (which turns
// intent events into HandleEventV1 requests).

export interface CounterEvent {
  paymentIntentId: string;
  event: 'payment_intent.created' | 'payment_intent.status_updated';
  paymentStatus: string;
  captureMode: string;
}

export interface CounterLedgerEntry {
  /** capture / reversal: a lifecycle call on a Manual (pre-auth) payment intent, no terminal involved. */
  kind: 'sale' | 'refund' | 'capture' | 'reversal';
  mode?: 'terminal' | 'matched' | 'unlinked' | 'online';
  paymentIntentId?: string;
  terminalSessionId?: string;
  refundId?: string;
  reference?: string;
  terminalId?: string;
  amount: number;
  currency: string;
  /** A session's TerminalSessionStatus, kept current until the session ends; 'Refunded' for an online refund. */
  status: string;
  at: string;
}

/** A terminal of the simulated account. `status` Offline (or any value but Available) keeps it out of use. */
export interface SimTerminal {
  id: string;
  /** 8 digits, printed on receipts. */
  tid: string;
  status?: string;
}

export interface CounterSimOptions {
  /** Time between state-machine steps; 0 = instant (benchmarks): the session is final on creation. */
  stepDelayMs: number;
  /** Dojo accepts the signature itself when the EPOS does not answer in time (protocol notes 8). */
  signatureTimeoutMs: number;
  /** A session still not final at expireAt becomes Expired; expireAt moves with every status change. */
  sessionExpiryMs: number;
  terminals?: SimTerminal[];
  onIntentEvent: (e: CounterEvent) => void;
  /** Terminates the EPOS WebSocket(s): amount ending 55 drops them mid-payment, then the payment completes. */
  dropConnection: () => void;
  log: (line: string) => void;
}

export interface Money {
  value: number;
  currencyCode: string;
}

export interface CounterResponse {
  status: number;
  body: unknown;
}

export type Headers = Record<string, string | string[] | undefined>;
