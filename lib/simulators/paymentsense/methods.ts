// The PAC methods a till may call, with the parameter checks a real server would make. Bad
// parameters answer -32602 with a message naming the field, so a client bug shows plainly.

import { METHOD, type WireTerminal, type WireTransaction } from '../../providers/paymentsense/wire';
import { DEFERRED, INVALID_PARAMS, METHOD_NOT_FOUND, RpcFault, type IncomingRequest, type RpcPeer } from './rpc';
import type { TerminalPool } from './terminals';
import type { TransactionEngine, TransactionMethod, TransactionOrder } from './transactions';

const CURRENCIES = ['GBP', 'EUR'];
/** REST v2 limits (protocol notes 3.2). */
const MAX_AMOUNT = 99_999_999;
const MAX_CASHBACK = 10_000;

export class PacMethods {
  constructor(
    private readonly pool: TerminalPool,
    private readonly engine: TransactionEngine,
    /** The fault switch: behave like a server that lacks the look-up. */
    private readonly lacksLookup: () => boolean = () => false,
  ) {}

  handle(peer: RpcPeer, req: IncomingRequest): unknown {
    switch (req.method) {
      case METHOD.connectedTerminals:
        return { terminals: this.pool.list() };
      case METHOD.terminalDetails:
        return this.terminalDetails(req.params);
      case METHOD.sale:
      case METHOD.refund:
      case METHOD.preAuth:
      case METHOD.completion:
      case METHOD.accountVerification:
        this.engine.begin(peer, req.id, this.order(req.method, req.params));
        return DEFERRED;
      case METHOD.cancelTransaction: {
        const p = object(req.params);
        const tid = optionalString(p, 'tid');
        const requestId = optionalString(p, 'requestId');
        if (tid === undefined && requestId === undefined) throw invalid('cancelTransaction needs tid or requestId');
        if (tid !== undefined) this.knownTerminal(tid);
        return this.engine.cancel(tid, requestId);
      }
      case METHOD.transactionDetails:
        if (this.lacksLookup()) throw new RpcFault(METHOD_NOT_FOUND, `Method not found: ${METHOD.transactionDetails}`);
        return this.transactionDetails(req.params);
      default:
        throw new RpcFault(METHOD_NOT_FOUND, `Method not found: ${String(req.method).slice(0, 64)}`);
    }
  }

  private terminalDetails(params: unknown): WireTerminal {
    // Tolerate positional params: v0's terminalsDetails took a list.
    const tid = Array.isArray(params) ? params[0] : object(params).tid;
    if (typeof tid !== 'string' || tid === '') throw invalid('tid is required');
    this.knownTerminal(tid);
    return this.pool.details(tid) as WireTerminal;
  }

  private transactionDetails(params: unknown): WireTransaction {
    const p = object(params);
    const requestId = optionalString(p, 'requestId');
    if (requestId === undefined) throw invalid('requestId is required');
    const tid = optionalString(p, 'tid');
    return this.engine.details(tid, requestId);
  }

  private order(kind: TransactionMethod, params: unknown): TransactionOrder {
    const p = object(params);
    const tid = p.tid;
    if (typeof tid !== 'string' || tid === '') throw invalid('tid is required');
    this.knownTerminal(tid);
    // An account verification is a zero-value check: REST's accountVerificationRequest has no amount.
    const verification = kind === 'accountVerification';
    const amount = verification ? (p.amount ?? 0) : p.amount;
    if (verification && amount !== 0) throw invalid('amount is not accepted on an accountVerification (it checks the card without charging it)');
    if (!verification && (!Number.isSafeInteger(amount) || (amount as number) < 1 || (amount as number) > MAX_AMOUNT)) {
      throw invalid(`amount must be an integer number of minor units from 1 to ${MAX_AMOUNT}`);
    }
    const currency = p.currency;
    if (typeof currency !== 'string' || !CURRENCIES.includes(currency)) throw invalid('currency must be GBP or EUR');
    const terminalCurrency = this.pool.currency(tid);
    if (currency !== terminalCurrency) throw invalid(`currency ${currency} does not match terminal ${tid} (${terminalCurrency})`);
    const order: TransactionOrder = { kind, tid, amount: amount as number, currency };
    const requestId = optionalString(p, 'requestId');
    if (requestId !== undefined) order.requestId = requestId;
    if (p.amountCashback !== undefined && p.amountCashback !== 0) {
      if (kind !== 'sale') throw invalid('amountCashback is only allowed on a sale');
      order.amountCashback = minorUnits(p.amountCashback, 'amountCashback', MAX_CASHBACK);
    }
    if (p.amountGratuity !== undefined) order.amountGratuity = minorUnits(p.amountGratuity, 'amountGratuity', MAX_AMOUNT);
    // authCode and amountPreAuthorisedTotal: "required for completion transactions and not accepted for any other" [related: REST].
    if (kind === 'completion') {
      const authCode = optionalString(p, 'authCode');
      if (authCode === undefined) throw invalid('authCode is required on a completion: the auth code of the pre-auth');
      order.authCode = authCode;
      if (p.amountPreAuthorisedTotal !== undefined) order.amountPreAuthorisedTotal = minorUnits(p.amountPreAuthorisedTotal, 'amountPreAuthorisedTotal', MAX_AMOUNT);
    } else if (p.authCode !== undefined || p.amountPreAuthorisedTotal !== undefined) {
      throw invalid('authCode and amountPreAuthorisedTotal are only accepted on a completion');
    }
    return order;
  }

  private knownTerminal(tid: string): void {
    if (!this.pool.has(tid)) throw invalid('Unknown terminal', { tid });
  }
}

function invalid(message: string, data?: unknown): RpcFault {
  return new RpcFault(INVALID_PARAMS, message, data);
}

function object(params: unknown): Record<string, unknown> {
  if (params === undefined) return {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw invalid('params must be an object');
  return params as Record<string, unknown>;
}

function optionalString(p: Record<string, unknown>, key: string): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(`${key} must be a non-empty string`);
  return v;
}

function minorUnits(v: unknown, name: string, max: number): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > max) {
    throw invalid(`${name} must be an integer number of minor units from 0 to ${max}`);
  }
  return v as number;
}
