// The amount rule every simulator shares (DESIGN.md "Simulators"), so that one example flow
// or one conformance test gives the same outcome whichever provider it is pointed at.

export type AmountOutcome =
  | 'approved'
  | 'declined'
  | 'timed_out'
  | 'signature_required'
  | 'cancelled'
  | 'drop_then_approved';

/** The last two digits of the amount in minor units that select a non-approved outcome. */
export const AMOUNT_OUTCOMES: Readonly<Record<number, AmountOutcome>> = Object.freeze({
  51: 'declined',
  52: 'timed_out',
  53: 'signature_required',
  54: 'cancelled',
  55: 'drop_then_approved',
});

/**
 * Outcome for an amount in minor units. Callers validate amounts before asking; anything that
 * is not a finite number is treated as approved rather than throwing, because a simulator must
 * never crash on a request it has already accepted.
 */
export function outcomeForAmount(amount: number): AmountOutcome {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return 'approved';
  const lastTwo = Math.abs(Math.trunc(amount)) % 100;
  return AMOUNT_OUTCOMES[lastTwo] ?? 'approved';
}
