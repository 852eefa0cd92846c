/**
 * One request inside the simulated engine, and the names of its KV blocks.
 *
 * A block's name is derived from the prompt's prefix chain: the block ending at token p
 * is named by the segment that contains p (whose hash already identifies the whole
 * prompt up to that segment's end) and p's offset in it. Two prompts therefore share
 * blocks exactly as far as their chains share segments, as vLLM's content hashes would.
 * Generated tokens are named after `answerHash`, the hash a later turn gives this answer
 * when it carries it as a segment of its own prompt.
 */
import { KvBlockPool, blockTokens, type CachedBlock } from './kv-cache.js';

/** Structurally the scheduler's PrefixSegment (engines do not import the scheduler). */
export interface SimPrefixSegment {
  hash: string;
  tokens: number;
}

export interface SimRequest {
  id: string;
  /** The prompt as a chain of segments; prompt tokens = the sum of their tokens. */
  prefix: readonly SimPrefixSegment[];
  /** Tokens this request will generate (its natural length or its max_tokens). */
  outputTokens: number;
  /** Hash of the prompt extended by this answer, so a later turn's prompt hits its blocks. */
  answerHash?: string;
  /**
   * vLLM's request `priority`: lower is served first under the priority scheduling policy
   * (waiting-queue.ts); ignored under FCFS. Default 0.
   */
  priority?: number;
}

export class Sequence {
  readonly promptTokens: number;
  /** Prompt plus tokens sampled so far: what a recompute must prefill. */
  known: number;
  /** Tokens whose KV is computed. */
  computed = 0;
  generated = 0;
  /** One entry per held block: the cached block, or undefined while private (not yet full). */
  readonly blocks: Array<CachedBlock | undefined> = [];
  /** Prompt tokens found in the prefix cache at first admission. */
  cachedTokens = 0;
  admitted = false;
  /** Dropped by abort(); queues skip it lazily. */
  aborted = false;
  /** Tokens the GPU computed for this request (prefill, recompute, decode). */
  work = 0;
  /** Tokens scheduled in the step now running (for abort accounting). */
  inFlight = 0;
  preemptions = 0;
  readonly priority: number;
  private segment = 0;
  private segmentStart = 0;
  private keySegment = '';
  private keyOffset = 0;

  /** @param arrival the engine's arrival order, which breaks ties between equal priorities. */
  constructor(readonly request: SimRequest, readonly arrival = 0) {
    this.priority = request.priority ?? 0;
    let tokens = 0;
    for (const segment of request.prefix) tokens += segment.tokens;
    this.promptTokens = tokens;
    this.known = tokens;
  }

  get finished(): boolean {
    return this.generated >= this.request.outputTokens;
  }

  /**
   * Names the block whose last token is at position end - 1: sets `keySegment` and
   * `keyOffset` (no allocation per block); false if it is not cacheable.
   */
  blockKey(end: number): boolean {
    if (end > this.promptTokens) {
      const answer = this.request.answerHash;
      if (answer === undefined) return false;
      this.keySegment = answer;
      this.keyOffset = end - this.promptTokens;
      return true;
    }
    const prefix = this.request.prefix;
    // Blocks are named in increasing order; rewind only after a preemption restarts them.
    if (end <= this.segmentStart) {
      this.segment = 0;
      this.segmentStart = 0;
    }
    while (this.segmentStart + prefix[this.segment]!.tokens < end) {
      this.segmentStart += prefix[this.segment]!.tokens;
      this.segment++;
    }
    this.keySegment = prefix[this.segment]!.hash;
    this.keyOffset = end - this.segmentStart;
    return true;
  }

  /**
   * Holds the longest run of cached full blocks of the known tokens, leaving at least one
   * token to compute (a step must sample from something). Returns the tokens covered.
   */
  takeCachedPrefix(pool: KvBlockPool): number {
    const maxBlocks = Math.floor((this.known - 1) / blockTokens);
    let hits = 0;
    while (hits < maxBlocks) {
      if (!this.blockKey((hits + 1) * blockTokens)) break;
      const block = pool.acquire(this.keySegment, this.keyOffset);
      if (block === undefined) break;
      this.blocks.push(block);
      hits++;
    }
    this.computed = hits * blockTokens;
    return this.computed;
  }

  /** Allocates blocks so that `tokens` more can be computed; false (nothing held extra) if short. */
  reserve(pool: KvBlockPool, tokens: number): boolean {
    if (this.computed + tokens <= this.blocks.length * blockTokens) return true;
    const needed = Math.ceil((this.computed + tokens) / blockTokens) - this.blocks.length;
    if (needed <= 0) return true;
    if (pool.availableBlocks < needed) return false;
    for (let i = 0; i < needed; i++) {
      pool.allocate();
      this.blocks.push(undefined);
    }
    return true;
  }

  /** `tokens` were computed: publish the blocks they filled. */
  advance(pool: KvBlockPool, tokens: number): void {
    const before = Math.floor(this.computed / blockTokens);
    this.computed += tokens;
    this.work += tokens;
    const after = Math.floor(this.computed / blockTokens);
    for (let block = before; block < after; block++) {
      if (this.blocks[block] !== undefined) continue;
      if (this.blockKey((block + 1) * blockTokens)) this.blocks[block] = pool.publish(this.keySegment, this.keyOffset);
    }
  }

  /** Gives every block back, tail first so that LRU evicts a prompt's tail before its head. */
  releaseAll(pool: KvBlockPool): void {
    for (let i = this.blocks.length - 1; i >= 0; i--) pool.release(this.blocks[i]);
    this.blocks.length = 0;
  }
}
