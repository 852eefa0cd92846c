/** Ids for billing rows. Random parts come from core's newId (base62, crypto-random). */
import { randomString } from './ids.js';

/** `ten_…`, `key_…`: an underscore prefix like Stripe's, so ids and keys never look alike. */
export function billingId(prefix: string, length = 20): string {
  return `${prefix}_${randomString(length)}`;
}

/** Volcano Ark's endpoint form: `ep-20250101123045-ab1cd` (UTC timestamp, 5 random base36). */
export function endpointId(at: Date = new Date()): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp =
    `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}` +
    `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `ep-${stamp}-${randomString(5, '0123456789abcdefghijklmnopqrstuvwxyz')}`;
}
