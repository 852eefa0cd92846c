/**
 * What one replica was recently sent, as prefix-chain hashes in LRU order: the
 * approximate radix tree of SGLang's router, flattened. A link's hash names the whole
 * prompt up to it, so the deepest link found tells how much of a new prompt the
 * replica's cache most likely still holds.
 */
import type { PrefixSegment } from './types.js';

export class PrefixLru {
  /** hash → tokens of that segment alone; Map order is recency, oldest first. */
  private readonly entries = new Map<string, number>();
  /** Tokens remembered in all (each distinct prefix segment once, as a radix tree holds it). */
  tokens = 0;

  constructor(private readonly maxTokens: number) {}

  /** Tokens of `prefix` up to the deepest link this replica was sent. */
  matchedTokens(prefix: readonly PrefixSegment[]): number {
    let total = 0;
    let matched = 0;
    for (const segment of prefix) {
      total += segment.tokens;
      if (this.entries.has(segment.hash)) matched = total;
    }
    return matched;
  }

  insert(prefix: readonly PrefixSegment[]): void {
    // Deepest link first, so the shared shallow links are the most recent and a prompt's
    // tail is forgotten before its head, as a radix tree evicts leaves before their parents.
    for (let i = prefix.length - 1; i >= 0; i--) {
      const segment = prefix[i]!;
      const known = this.entries.get(segment.hash);
      if (known !== undefined) this.entries.delete(segment.hash);
      else this.tokens += segment.tokens;
      this.entries.set(segment.hash, segment.tokens);
    }
    while (this.tokens > this.maxTokens && this.entries.size > 0) {
      const [hash, tokens] = this.entries.entries().next().value!;
      this.entries.delete(hash);
      this.tokens -= tokens;
    }
  }
}
