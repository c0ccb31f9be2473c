/**
 * Billing's own money arithmetic, on integer minor units (the shared basics are in
 * `@shop/common/money`). Products of amounts and rates are taken in bigint, so no intermediate
 * value can lose precision.
 */

/**
 * `amount * basisPoints / 10000`, rounded half up to a whole minor unit (HMRC accepts rounding
 * the VAT of each rate to the nearest penny; half a penny rounds up).
 */
export function percentOf(amountMinor: number, basisPoints: number): number {
  if (amountMinor < 0 || basisPoints < 0) throw new RangeError('percentOf takes non-negative values');
  return Number((BigInt(amountMinor) * BigInt(basisPoints) + 5000n) / 10000n);
}

/** A rate in basis points as people write it: 2000 is "20%", 550 is "5.5%". */
export function formatRate(basisPoints: number): string {
  const whole = Math.trunc(basisPoints / 100);
  const frac = (basisPoints % 100).toString().padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}%` : `${whole}%`;
}
