/**
 * The KV cache as vLLM's block manager keeps it: fixed blocks of 16 tokens; a block
 * that is full gets a hash naming the whole prefix it ends, and stays findable by that
 * hash after its sequence ends, until the space is needed (LRU). Only counts and hashes
 * are kept: a block's content is never simulated.
 *
 * Blocks are in one of three states: in use (held by a running sequence, hashed or
 * private), evictable (hashed, no holder, still a cache hit) or free.
 * total = free + evictable + inUse at all times.
 *
 * A block is found by (segment hash, offset of its last token in that segment), see
 * sequence.ts; blocks ending in one segment of one chain are 16 tokens apart, so
 * offset / 16 indexes them in an array per segment. Sequences hold the entries
 * themselves. Both spare hashing a fresh string per block: benchmarks touch millions.
 */
export const blockTokens = 16;

export interface CachedBlock {
  readonly segment: Array<CachedBlock | undefined>;
  readonly index: number;
  refs: number;
  /** Neighbours in the evictable list while refs = 0. */
  older: CachedBlock | undefined;
  newer: CachedBlock | undefined;
}

export class KvBlockPool {
  readonly totalBlocks: number;
  private free: number;
  private inUse = 0;
  private evictable = 0;
  private readonly segments = new Map<string, Array<CachedBlock | undefined>>();
  private oldest: CachedBlock | undefined;
  private newest: CachedBlock | undefined;

  constructor(kvTokens: number) {
    this.totalBlocks = Math.floor(kvTokens / blockTokens);
    this.free = this.totalBlocks;
  }

  get usedBlocks(): number {
    return this.inUse;
  }

  /** Blocks that an allocation could obtain now (free ones, then evicting cached ones). */
  get availableBlocks(): number {
    return this.free + this.evictable;
  }

  /** Takes a hold on a cached block (a prefix-cache hit); undefined on a miss. */
  acquire(segment: string, offset: number): CachedBlock | undefined {
    const block = this.segments.get(segment)?.[(offset - 1) >> 4];
    if (block !== undefined) this.hold(block);
    return block;
  }

  /** A block for new tokens; false when none is free and none can be evicted. */
  allocate(): boolean {
    if (this.free > 0) {
      this.free--;
    } else {
      const victim = this.oldest;
      if (victim === undefined) return false;
      this.unlink(victim);
      victim.segment[victim.index] = undefined;
    }
    this.inUse++;
    return true;
  }

  /**
   * A held private block just became full: publish it. When another sequence computed the
   * same block first, this copy is dropped and the published one held instead.
   */
  publish(segment: string, offset: number): CachedBlock {
    let blocks = this.segments.get(segment);
    if (blocks === undefined) {
      blocks = [];
      this.segments.set(segment, blocks);
    }
    const index = (offset - 1) >> 4;
    const existing = blocks[index];
    if (existing === undefined) {
      const block: CachedBlock = { segment: blocks, index, refs: 1, older: undefined, newer: undefined };
      blocks[index] = block;
      return block;
    }
    this.inUse--;
    this.free++;
    this.hold(existing);
    return existing;
  }

  /** Drops a hold; `block` undefined for a private block (its space is free at once). */
  release(block: CachedBlock | undefined): void {
    if (block === undefined) {
      this.inUse--;
      this.free++;
      return;
    }
    if (block.refs <= 0) throw new Error('Released a block that is not held.');
    if (--block.refs > 0) return;
    this.inUse--;
    this.evictable++;
    block.older = this.newest;
    block.newer = undefined;
    if (this.newest === undefined) this.oldest = block;
    else this.newest.newer = block;
    this.newest = block;
  }

  private hold(block: CachedBlock): void {
    if (block.refs++ > 0) return;
    this.unlink(block);
    this.inUse++;
  }

  private unlink(block: CachedBlock): void {
    if (block.older === undefined) this.oldest = block.newer;
    else block.older.newer = block.newer;
    if (block.newer === undefined) this.newest = block.older;
    else block.newer.older = block.older;
    block.older = undefined;
    block.newer = undefined;
    this.evictable--;
  }
}
