/**
 * Money as text. Amounts are integer micro-units of a currency everywhere inside; these
 * convert to and from the decimal strings people type and read, through BigInt, so no
 * amount is ever rounded by a float.
 */
const PER = 1_000_000n;

/** The shape microsFromDecimal accepts: whole units, then at most 6 decimals. */
export const decimalAmountPattern = /^(\d+)(?:\.(\d{1,6}))?$/;

/** Parses micros from a decimal string of currency units without floats: "0.8" → 800000. */
export function microsFromDecimal(amount: string): number {
  const match = decimalAmountPattern.exec(amount.trim());
  if (match === null) throw new RangeError(`not a currency amount with at most 6 decimals: ${amount}`);
  const micros = BigInt(match[1]!) * PER + BigInt((match[2] ?? '').padEnd(6, '0'));
  if (micros > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`${amount} is too large`);
  return Number(micros);
}

/** Micros → "12.345678" for display; exact. */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = BigInt(Math.abs(micros));
  const units = abs / PER;
  const frac = (abs % PER).toString().padStart(6, '0');
  return `${sign}${units}.${frac}`;
}
