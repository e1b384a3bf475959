// A pre-auth is completed or released once. The journal links a completion (or release) to
// its pre-auth by `originalReference` and keeps, per pre-auth, one settlement entry under a
// reserved reference: taking it is a journal claim, so it is atomic in every journal (memory,
// file, and PostgreSQL across instances) without a journal method of its own.
//
// The settlement entry's request names the completion that holds it (`options.settledBy`).
// It stays pending while that completion runs or has an unknown outcome, becomes done when the
// completion is approved, and is released (the pre-auth is free again) when the completion
// ended without taking money or was never sent. An entry left pending by a crash is judged by
// its completion's own journal entry, so nothing is ever completed twice.

import { randomUUID } from 'node:crypto';
import { PosError } from './errors';
import type { Journal, JournalEntry } from './journal';
import { RESERVED_REFERENCE_START } from './request';
import { LINKED_KINDS, type Outcome, type PaymentRequest, type PaymentResult, type ProviderName } from './types';

const PREFIX = `${RESERVED_REFERENCE_START}settles `;

export const settlementReference = (preauthReference: string): string => PREFIX + preauthReference;
export const isSettlementReference = (reference: string): boolean => reference.startsWith(PREFIX);
export const isLinked = (request: PaymentRequest): boolean => LINKED_KINDS.includes(request.kind);

/** Outcomes after which the card was certainly not charged: the pre-auth is still there to settle. */
const NOTHING_TAKEN: ReadonlySet<Outcome> = new Set(['declined', 'cancelled', 'failed', 'timed_out', 'voided']);

type Verdict =
  | { state: 'free' }
  | { state: 'mine' }
  /** A pending entry whose completion is gone or ended without money: free once released. */
  | { state: 'stale' }
  | { state: 'settled'; by: string; kind: string; pendingEntry?: JournalEntry }
  | { state: 'busy'; by: string; kind: string; unknown: boolean };

export class Settlements {
  constructor(private readonly journal: Journal, private readonly provider: ProviderName) {}

  /**
   * Checks a completion or release against its pre-auth in the journal and returns it with
   * `original` (and a release's amount) filled in. Every refusal is bad_input: nothing is sent.
   */
  async link(request: PaymentRequest): Promise<PaymentRequest> {
    const ref = request.originalReference;
    if (!ref) throw new PosError('bad_input', `a ${request.kind} needs originalReference, the reference of its pre-auth`);
    // A repeat of this very completion: linked as it was the first time (the pre-auth may be settled by it, or swept since).
    const prior = await this.journal.get(request.reference);
    if (prior?.request.original && prior.request.kind === request.kind && prior.request.originalReference === ref) {
      const amount = request.kind === 'release' && request.amount === 0 ? prior.request.amount : request.amount;
      return { ...request, amount, original: prior.request.original };
    }
    const preauth = await this.journal.get(ref);
    const nothing = 'nothing was sent';
    if (!preauth) {
      throw new PosError('bad_input', `no pre-auth with reference "${ref}" is in this connection's journal (unknown, or older than the journal keeps ` +
        `finished payments); ${nothing}`);
    }
    if (preauth.request.kind !== 'preauth') throw new PosError('bad_input', `"${ref}" is a ${preauth.request.kind}, not a pre-auth; ${nothing}`);
    const result = preauth.result;
    if (preauth.state !== 'done' || !result) throw new PosError('bad_input', `the pre-auth "${ref}" has no result yet; ${nothing}`);
    if (!result.approved) throw new PosError('bad_input', `the pre-auth "${ref}" ended ${result.outcome}: nothing is reserved to ${verb(request)}; ${nothing}`);
    const reserved = result.amount;
    if (request.currency !== result.currency) {
      throw new PosError('bad_input', `the pre-auth "${ref}" reserved ${result.currency}, not ${request.currency}; ${nothing}`);
    }
    let amount = request.amount;
    if (request.kind === 'completion' && amount > reserved) {
      throw new PosError('bad_input', `a completion of ${amount} is more than the pre-auth "${ref}" reserved (${reserved} ${result.currency} in minor units); ` +
        `take the difference as a sale; ${nothing}`);
    }
    if (request.kind === 'release') {
      if (amount !== 0 && amount !== reserved) {
        throw new PosError('bad_input', `a release gives back the whole reserve of "${ref}" (${reserved}); leave amount out or send ${reserved}; ${nothing}`);
      }
      amount = reserved;
    }
    const verdict = await this.verdict(await this.journal.get(settlementReference(ref)), request.reference);
    if (verdict.state === 'settled' || verdict.state === 'busy') throw this.taken(ref, verdict);
    return {
      ...request,
      amount,
      original: {
        reference: ref, amount: reserved, currency: result.currency,
        ...(result.terminalId ?? preauth.request.terminalId ? { terminalId: result.terminalId ?? preauth.request.terminalId } : {}),
        ...(result.transactionId ? { transactionId: result.transactionId } : {}),
        ...(result.authCode ? { authCode: result.authCode } : {}),
        ...(preauth.notes ? { notes: preauth.notes } : {}),
      },
    };
  }

  /**
   * Takes the pre-auth for this completion (or finds it already held by it), atomically, just
   * before anything is sent. Throws bad_input when another completion or release has it.
   */
  async hold(request: PaymentRequest): Promise<void> {
    const ref = request.originalReference as string;
    // Bounded: each further round needs a stale entry that was released in between.
    for (let round = 0; round < 3; round++) {
      const claim = await this.journal.claim(this.settlementRequest(request), randomUUID());
      if (claim.claimed) return;
      const verdict = await this.verdict(claim.entry, request.reference);
      if (verdict.state === 'mine') return;
      if (verdict.state === 'stale') {
        await this.journal.release(claim.entry);
        continue;
      }
      if (verdict.state === 'settled' || verdict.state === 'busy') throw this.taken(ref, verdict);
    }
    throw new PosError('bad_input', `the pre-auth "${ref}" was taken and freed again while this ${request.kind} tried to take it; nothing was sent, send it again`);
  }

  /**
   * After a result: approved settles the pre-auth for good; an outcome that took no money frees
   * it; an unknown one keeps it held until its outcome is known.
   */
  async conclude(request: PaymentRequest, result: PaymentResult): Promise<void> {
    const entry = await this.heldBy(request);
    if (!entry) return;
    if (result.outcome === 'approved') await this.journal.finish(entry, this.settledResult(entry));
    else if (NOTHING_TAKEN.has(result.outcome)) await this.journal.release(entry);
  }

  /** Nothing was sent (or the provider has no record of it): the pre-auth is free again. */
  async abandon(request: PaymentRequest): Promise<void> {
    const entry = await this.heldBy(request);
    if (entry) await this.journal.release(entry);
  }

  /** A settlement entry found pending after a restart (or taken from a dead instance): judged by its completion. */
  async reconcile(entry: JournalEntry): Promise<void> {
    const verdict = await this.verdict(entry, undefined);
    if (verdict.state === 'stale') await this.journal.release(entry);
    else if (verdict.state === 'settled' && verdict.pendingEntry) await this.journal.finish(verdict.pendingEntry, this.settledResult(verdict.pendingEntry));
    // Still running or unknown: it stays held, and is looked at again by the next completion or recovery.
    else this.journal.handBack?.(entry);
  }

  private async heldBy(request: PaymentRequest): Promise<JournalEntry | undefined> {
    if (!request.originalReference) return undefined;
    const entry = await this.journal.get(settlementReference(request.originalReference));
    return entry && entry.state === 'pending' && settledBy(entry) === request.reference ? entry : undefined;
  }

  private async verdict(entry: JournalEntry | undefined, self: string | undefined): Promise<Verdict> {
    if (!entry) return { state: 'free' };
    const by = settledBy(entry);
    if (by === self) return { state: 'mine' };
    const kind = entry.request.kind;
    if (entry.state === 'done') return { state: 'settled', by, kind };
    const holder = await this.journal.get(by);
    if (!holder) return { state: 'stale' };
    const outcome = holder.state === 'done' ? holder.result?.outcome : undefined;
    if (outcome && NOTHING_TAKEN.has(outcome)) return { state: 'stale' };
    if (outcome === 'approved') return { state: 'settled', by, kind, pendingEntry: entry };
    return { state: 'busy', by, kind, unknown: outcome === 'unknown' };
  }

  private taken(ref: string, v: Extract<Verdict, { state: 'settled' | 'busy' }>): PosError {
    const done = v.kind === 'release' ? 'released' : 'completed';
    if (v.state === 'settled') return new PosError('bad_input', `the pre-auth "${ref}" was already ${done} (reference "${v.by}"); nothing was sent`);
    return new PosError('bad_input', v.unknown
      ? `the pre-auth "${ref}" is held by the ${v.kind} "${v.by}", whose outcome is unknown: check the terminal or portal, or send "${v.by}" again to ask; nothing was sent`
      : `the pre-auth "${ref}" is being ${done} right now (reference "${v.by}"); nothing was sent`);
  }

  private settlementRequest(request: PaymentRequest): PaymentRequest {
    return {
      kind: request.kind, amount: request.amount, currency: request.currency,
      reference: settlementReference(request.originalReference as string), options: { settledBy: request.reference },
    };
  }

  private settledResult(entry: JournalEntry): PaymentResult {
    return {
      kind: entry.request.kind, outcome: 'approved', approved: true, amount: entry.request.amount, currency: entry.request.currency,
      reference: entry.reference, provider: this.provider, card: {}, receipt: {}, message: `settled by ${settledBy(entry)}`, raw: null,
    };
  }
}

function settledBy(entry: JournalEntry): string {
  const by = entry.request.options?.settledBy;
  return typeof by === 'string' ? by : '';
}

const verb = (request: PaymentRequest): string => (request.kind === 'release' ? 'release' : 'complete');
