// The Modulus Labs Terminal Gateway WebSocket vocabulary (shared/protocols/modulus.md). The
// adapter and the simulator both speak these names. Fields the docs leave open stay open:
// every frame may carry members not listed here, and enum values are plain strings.

/** The WebSocket path and the HTTP API prefix [doc]. */
export const API_PATH = '/v1';
export const TRANSACTIONS_PATH = '/v1/transactions/';
export const TERMINALS_PATH = '/v1/terminals';

/** Upgrade and HTTP header names [doc]; the key may also travel as the query parameter of the same name. */
export const HEADER = {
  apiKey: 'x-api-key',
  groupId: 'x-group-id',
  timestamp: 'x-timestamp',
  signature: 'x-signature',
} as const;
export const QUERY_API_KEY = 'x-api-key';

export const ACTION = {
  // client -> server, the only three documented [doc]
  getTerminals: 'getTerminals',
  payment: 'payment',
  ping: 'ping',
  // server -> client [doc]
  terminalsResponse: 'terminalsResponse',
  pong: 'pong',
  terminalStatusUpdate: 'terminalStatusUpdate',
  paymentComplete: 'paymentComplete',
  paymentVoided: 'paymentVoided',
  forceDisconnect: 'forceDisconnect',
  /** The shape of WS error frames is not documented; this is the simulator's default [inferred]. */
  error: 'error',
} as const;

/** The four documented WS payment errors [doc]: category and exact message text. */
export const WS_ERRORS = {
  terminalIdRequired: { error: 'Bad Request', message: 'terminalId is required' },
  paymentRequestRequired: { error: 'Bad Request', message: 'paymentRequest is required' },
  terminalNotFound: { error: 'Not Found', message: 'Terminal connection not found' },
  groupMismatch: { error: 'Forbidden', message: 'Cannot send message to connection in different group' },
} as const;

export const DOCUMENTED_ERROR_TEXTS: readonly string[] = Object.values(WS_ERRORS).map((e) => e.message);

/** PaymentResponse.status [doc]; open. */
export const PAYMENT_STATUS = ['SUCCESS', 'FAILED', 'PENDING', 'CANCELLED'] as const;
/** HTTP transaction status [doc]; open. */
export const TRANSACTION_STATUS = ['PENDING', 'COMPLETED', 'FAILED', 'CANCELLED', 'AWAITING_RECONNECT', 'VOIDED'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUS)[number];
/** Terminal list vocabulary and push vocabulary differ [doc]. */
export const LIST_STATUS = ['online', 'offline', 'reconnecting'] as const;
export const PUSH_STATUS = ['connected', 'reconnecting', 'disconnected'] as const;
export const PAYMENT_METHODS = ['CARD', 'CASH', 'MOBILE', 'OTHER'] as const;

/** Why the gateway voids a late success; the value itself is not documented [inferred]. */
export const LATE_VOID_REASON = 'LATE_TERMINAL_RECONNECTION';
/** What a payment ends with when its terminal misses the grace period [inferred]. */
export const TERMINAL_DISCONNECTED = 'TERMINAL_DISCONNECTED';

export interface WireTerminal {
  deviceId?: string;
  terminalId?: string;
  connectionId?: string;
  status?: string;
  connectedAt?: string;
  lastActivity?: string;
  metadata?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface WirePaymentRequest {
  transactionId?: string;
  /** Decimal major units; a string is what the docs recommend. */
  amount: string | number;
  currency: string;
  paymentMethod: string;
  products?: unknown[];
  customerInfo?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface WirePaymentResponse {
  transactionId: string;
  status: string;
  amount?: string | number;
  currency?: string;
  paymentMethod?: string;
  authorizationCode?: string;
  errorCode?: string;
  /** Field name not confirmed [inferred]; `message` is read as well. */
  errorMessage?: string;
  message?: string;
  receiptData?: unknown;
  timestamp?: string;
  metadata?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface WireFrame {
  action: string;
  [k: string]: unknown;
}

export interface WireTerminalsResponse extends WireFrame {
  terminals: unknown[];
  timestamp?: string;
}

export interface WireStatusUpdate extends WireFrame {
  status: string;
  terminalId?: string;
  deviceId?: string;
  connectionId?: string;
  terminalInfo?: WireTerminal;
  timestamp?: string;
  groupId?: string;
  version?: string;
}

export interface WirePaymentComplete extends WireFrame {
  terminalId?: string;
  paymentResponse: WirePaymentResponse;
}

/** Payload not documented: `transactionId`, `voidedAt`, `voidReason` expected [related: HTTP API]. */
export interface WirePaymentVoided extends WireFrame {
  transactionId?: string;
  terminalId?: string;
  voidedAt?: string;
  voidReason?: string;
}

export interface WireForceDisconnect extends WireFrame {
  reason?: string;
}

/** Shape not documented [inferred]: read tolerantly, `action` may even be missing. */
export interface WireErrorFrame {
  action?: string;
  /** A category ("Not Found") or, in other gateways' style, an object with its own message. */
  error?: string | Record<string, unknown>;
  message?: string;
  statusCode?: number | string;
  terminalId?: string;
  transactionId?: string;
  [k: string]: unknown;
}

/** HTTP GET /v1/transactions/{id} [doc]. */
export interface WireTransaction {
  transactionId?: string;
  status: string;
  request?: Record<string, unknown>;
  response?: WirePaymentResponse;
  createdAt?: string;
  updatedAt?: string;
  completedAt?: string;
  voidedAt?: string;
  voidReason?: string;
  timestamp?: string;
  [k: string]: unknown;
}
