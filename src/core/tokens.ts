/**
 * A tokenizer-free estimate of token count, for admission and for upstreams that report
 * no usage. It errs high (≈ 1 token per 3 UTF-8 bytes, at least 1 per word-ish run)
 * because under-counting lets a tenant spend what it has not reserved.
 */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  return Math.max(1, Math.ceil(Buffer.byteLength(text, 'utf8') / 3));
}
