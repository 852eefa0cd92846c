import { randomFillSync } from 'node:crypto';

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

// One crypto-random refill per ~170 ids instead of a randomBytes call per request: ids are
// minted on the hot path of every request.
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomByte(): number {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return pool[offset++]!;
}

/** A random id with a readable prefix, like OpenAI's `chatcmpl-…`. 24 chars of base62 ≈ 142 bits. */
export function newId(prefix: string, length = 24): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
    let byte = randomByte();
    while (byte >= 248) byte = randomByte();
    out += alphabet[byte % alphabet.length];
  }
  return `${prefix}-${out}`;
}
