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

/** Crypto-random characters from `chars` (at most 256 of them), each equally likely. */
export function randomString(length: number, chars: string = alphabet): string {
  // Rejection sampling: bytes past the last whole multiple of chars.length would bias the start.
  const limit = 256 - (256 % chars.length);
  let out = '';
  for (let i = 0; i < length; i++) {
    let byte = randomByte();
    while (byte >= limit) byte = randomByte();
    out += chars[byte % chars.length];
  }
  return out;
}

/** A random id with a readable prefix, like OpenAI's `chatcmpl-…`. 24 chars of base62 ≈ 142 bits. */
export function newId(prefix: string, length = 24): string {
  return `${prefix}-${randomString(length)}`;
}
