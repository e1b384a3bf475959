// The Paymentsense Connect WebSocket (PAC) wire vocabulary, as far as the protocol notes in
// shared/protocols/paymentsense-connect.md establish it. Both the client adapter and the
// simulator speak these names; everything tagged [inferred] there is a default here and
// the client tolerates the plausible alternatives (see mapping.ts / client.ts).

/** Path per integration type [doc]. Only PAC is driven by the pack so far. */
export const PAC_PATH = '/pac';
export const PAT_PATH = '/pat';
export const API_VERSION = 'v1';
/** Query parameter names [doc]: the API key travels as `token`, the version as `api-version`. */
export const QUERY = {
  token: 'token',
  apiVersion: 'api-version',
  softwareHouseId: 'software-house-id',
  installerId: 'installer-id',
} as const;

/** JSON-RPC method names. [doc] for the first three; the rest [inferred]. */
export const METHOD = {
  connectedTerminals: 'connectedTerminals',
  terminalDetails: 'terminalDetails',
  cancelTransaction: 'cancelTransaction',
  sale: 'sale',
  refund: 'refund',
  /** Perform Transaction methods added in v1 [doc]; request fields as REST v2 preAuthRequest / completionRequest [related: REST]. */
  preAuth: 'preAuth',
  completion: 'completion',
  /** A zero-value card check [doc: "transaction type"; the method name is inferred]; REST v2 sends only the currency. */
  accountVerification: 'accountVerification',
  /** Connect -> EPoS notification carrying one progress value [inferred name]. */
  transactionNotification: 'transactionNotification',
  /** Connect -> EPoS request during a transaction; answered { accepted } [inferred name]. */
  signatureVerification: 'signatureVerification',
  /**
   * Asking about a transaction after a lost connection [inferred]: the WS analogue of REST
   * GET /pac/terminals/{tid}/transactions/{requestId}. A server without it answers -32601,
   * and the pack then reports the payment as `unknown`.
   */
  transactionDetails: 'transactionDetails',
} as const;

/** Application error codes used by the simulator [inferred: Connect documents none]. */
export const APP_ERROR = {
  terminalBusy: -32000,
  transactionNotFound: -32001,
  transactionInProgress: -32002,
  noTransactionToCancel: -32003,
} as const;

/** Result values [related: REST]; the list is open, unknown values pass through in raw. */
export const TRANSACTION_RESULTS = ['SUCCESSFUL', 'DECLINED', 'VOID', 'UNSUCCESSFUL', 'CANCELLED', 'TIMED_OUT'] as const;

export interface WireTerminal {
  tid: string;
  status: string; // AVAILABLE | BUSY, open
  currency?: string;
  [k: string]: unknown;
}

export interface WireReceiptLine {
  type?: string;
  format?: string[];
  value: string;
}

export interface WireTransactionRequest {
  tid: string;
  /** Client-chosen UUID so the transaction can be asked about after a lost connection [inferred]. */
  requestId?: string;
  /** Left out of an account verification (REST accountVerificationRequest has none). */
  amount?: number;
  currency: string;
  /** Completion only: the pre-auth's auth code [doc]. */
  authCode?: string;
  /** Completion only (Ingenico): the sum of the pre-auths being completed [related: REST]. */
  amountPreAuthorisedTotal?: number;
  amountCashback?: number;
  amountGratuity?: number;
  cardholderNotPresent?: boolean;
  [k: string]: unknown;
}

/** Transaction result, REST v2 `transaction` shape [related: REST] plus `tid`. */
export interface WireTransaction {
  requestId?: string;
  tid?: string;
  transactionResult?: string;
  transactionType?: string;
  transactionId?: string;
  transactionNumber?: string;
  transactionTime?: string;
  amountBase?: number;
  amountCashback?: number;
  amountGratuity?: number;
  amountTotal?: number;
  authCode?: string;
  cardSchemeName?: string;
  cardHolderVerificationMethod?: string;
  paymentMethod?: string;
  primaryAccountNumber?: string;
  currency?: string;
  notifications?: string[];
  receiptLines?: { MERCHANT?: WireReceiptLine[]; CUSTOMER?: WireReceiptLine[] };
  userMessage?: string;
  [k: string]: unknown;
}

export interface WireNotificationParams {
  tid?: string;
  requestId?: string;
  notification?: string;
  notifications?: string[];
  userMessage?: string;
  [k: string]: unknown;
}

export interface WireSignatureParams {
  tid?: string;
  requestId?: string;
  [k: string]: unknown;
}
