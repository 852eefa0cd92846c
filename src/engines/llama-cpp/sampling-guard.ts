import type { LlamaContext } from 'node-llama-cpp';

/**
 * Keeps the sequences of one context from reading each other's logits.
 *
 * llama.cpp may compute a batch's outputs in another order than the batch lists them (with one
 * KV stream per sequence it splits batches into ubatches of consecutive sequence ids). It then
 * records row swaps and applies them lazily, in place, on the next logits read
 * (`llama_context::output_reorder`, then clears the list) — not thread-safe. node-llama-cpp
 * 3.21.1 samples every sequence of a batch at once, each on its own libuv worker, and each
 * worker reads the logits: two workers replaying the same swaps leave rows where
 * `output_ids` does not expect them, so a sequence samples a token from another sequence's
 * logits ("45656789." for "456789.": two answers trade a token and each continues from it).
 *
 * The guard lets the first sample after each decode run alone (it performs the reorder); the
 * others of that batch wait for it, then run in parallel as before. It wraps node-llama-cpp's
 * internal native context, so an upgrade that renames it fails loudly here rather than silently
 * bringing the race back.
 */
export function guardSampling(context: LlamaContext): void {
  const native = (context as unknown as { _ctx?: NativeContext })._ctx;
  if (!native || typeof native.decodeBatch !== 'function' || typeof native.sampleToken !== 'function') {
    throw new Error('node-llama-cpp internals changed (LlamaContext._ctx): re-check the logits reorder race (docs/engines.md).');
  }
  const decodeBatch = native.decodeBatch.bind(native);
  const sampleToken = native.sampleToken.bind(native);
  let reorderPending = false;
  let reordered: Promise<unknown> = Promise.resolve();

  // The binding's methods are read-only on its prototype; own properties shadow them.
  Object.defineProperty(native, 'decodeBatch', {
    value: async (...args: unknown[]) => {
      const result = await decodeBatch(...args);
      reorderPending = true;
      return result;
    },
  });
  Object.defineProperty(native, 'sampleToken', {
    value: (...args: unknown[]) => {
      if (!reorderPending) return reordered.then(() => sampleToken(...args));
      reorderPending = false;
      const first = sampleToken(...args);
      reordered = first.catch(() => undefined);
      return first;
    },
  });
}

interface NativeContext {
  decodeBatch(...args: unknown[]): Promise<unknown>;
  sampleToken(...args: unknown[]): Promise<unknown>;
}
