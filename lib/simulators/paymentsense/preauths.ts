// The simulated acquirer's pre-auths: what each approved preAuth reserved, found by its auth
// code as a completion names it [doc: "completion needs authCode"]. A completion may take at
// most the reserve, in its currency, once; while one runs, another for the same pre-auth is
// refused, as a real host would refuse a second capture of one authorisation [inferred].

import { INVALID_PARAMS, RpcFault } from './rpc';

interface PreAuth {
  authCode: string;
  tid: string;
  amount: number;
  currency: string;
  /** The completion running now, or the one that completed it. */
  completingBy?: string;
  completed: boolean;
}

/** Enough for any test or demo; a long benchmark must not grow it without bound. */
const MAX_KEPT = 10_000;

export class PreAuthBook {
  private readonly byCode = new Map<string, PreAuth>();

  /** An approved preAuth. */
  record(authCode: string, tid: string, amount: number, currency: string): void {
    this.byCode.set(authCode, { authCode, tid, amount, currency, completed: false });
    if (this.byCode.size > MAX_KEPT) this.byCode.delete(this.byCode.keys().next().value as string);
  }

  /** Checks a completion and holds the pre-auth for it; throws -32602 naming the fault. */
  reserve(authCode: string, amount: number, currency: string, preAuthorisedTotal: number | undefined, requestId: string): void {
    const p = this.byCode.get(authCode);
    if (!p) throw new RpcFault(INVALID_PARAMS, 'No pre-auth with this authCode', { authCode });
    if (p.completed) throw new RpcFault(INVALID_PARAMS, 'This pre-auth was already completed', { authCode });
    if (p.completingBy !== undefined) throw new RpcFault(INVALID_PARAMS, 'A completion of this pre-auth is in progress', { authCode });
    if (currency !== p.currency) throw new RpcFault(INVALID_PARAMS, `currency must be ${p.currency}, the currency of the pre-auth`);
    if (amount > p.amount) throw new RpcFault(INVALID_PARAMS, `amount must not exceed the pre-authorised ${p.amount}`);
    if (preAuthorisedTotal !== undefined && preAuthorisedTotal !== p.amount) {
      throw new RpcFault(INVALID_PARAMS, `amountPreAuthorisedTotal must be the sum of the pre-auths (${p.amount})`);
    }
    p.completingBy = requestId;
  }

  /** The completion ended: approved completes the pre-auth, anything else frees it again. */
  settle(authCode: string, requestId: string, approved: boolean): void {
    const p = this.byCode.get(authCode);
    if (!p || p.completingBy !== requestId) return;
    if (approved) p.completed = true;
    else p.completingBy = undefined;
  }

  /** For tests: what a pre-auth looks like now. */
  get(authCode: string): Readonly<PreAuth> | undefined {
    const p = this.byCode.get(authCode);
    return p ? { ...p } : undefined;
  }
}
