/**
 * How long one step of a batched decoder takes on a GPU. A step reads every weight once
 * and the KV cache of every scheduled sequence (memory-bound at small batches) and does
 * 2 FLOPs per parameter per token (compute-bound for big prefill chunks); whichever is
 * slower sets the step time, plus a fixed per-step overhead (scheduling, sampling,
 * kernel launches).
 *
 * Bandwidth and FLOPS are *effective* figures (≈ 80 % of HBM peak, ≈ 50 % of dense
 * bf16 peak), which is what vLLM reaches in practice; the defaults reproduce the
 * calibration points of issue 4: an 8B model on one H100 takes ≈ 8 ms per step for one
 * stream and delivers ≈ 5k output tokens/s at 64 streams, ≈ 10k at 256 (contexts of
 * ≈ 1.5k tokens).
 */

export interface GpuProfile {
  readonly name: string;
  /** Model parameters (2 FLOPs each per token). */
  readonly params: number;
  /** Bytes of weights read every step. */
  readonly weightBytes: number;
  /** Bytes of K and V per token of context, all layers. */
  readonly kvBytesPerToken: number;
  /** Effective HBM bandwidth, bytes/s. */
  readonly memoryBytesPerSecond: number;
  /** Effective dense FLOPS. */
  readonly flopsPerSecond: number;
  readonly stepOverheadMs: number;
  /** KV-cache budget in tokens, deliberately below what the GPU could hold (see presets). */
  readonly defaultKvTokens: number;
  readonly maxModelLen: number;
}

export const gpuPresetNames = ['8b-h100', '70b-4xh100'] as const;
export type GpuPresetName = (typeof gpuPresetNames)[number];

const h100 = { memoryBytesPerSecond: 3.35e12 * 0.8, flopsPerSecond: 989e12 * 0.5 };

/**
 * Llama-3-8B-shaped (32 layers, 8 KV heads of 128, bf16) on one H100 SXM; Llama-3-70B
 * shaped (80 layers) on four with tensor parallelism. The KV budgets are what a GPU lent
 * mostly to something else would leave (vLLM's gpu_memory_utilization ≈ 0.4): small
 * enough that preemption and prefix-cache eviction happen under load, which is the
 * regime a scheduler has to handle.
 */
export const gpuPresets: Readonly<Record<GpuPresetName, GpuProfile>> = {
  '8b-h100': {
    name: '8b-h100',
    params: 8.03e9,
    weightBytes: 16.06e9,
    kvBytesPerToken: 32 * 8 * 128 * 2 * 2,
    memoryBytesPerSecond: h100.memoryBytesPerSecond,
    flopsPerSecond: h100.flopsPerSecond,
    stepOverheadMs: 2,
    defaultKvTokens: 131_072,
    maxModelLen: 16_384,
  },
  '70b-4xh100': {
    name: '70b-4xh100',
    params: 70.6e9,
    weightBytes: 141.2e9,
    kvBytesPerToken: 80 * 8 * 128 * 2 * 2,
    memoryBytesPerSecond: 4 * h100.memoryBytesPerSecond,
    flopsPerSecond: 4 * h100.flopsPerSecond,
    stepOverheadMs: 4,
    defaultKvTokens: 262_144,
    maxModelLen: 32_768,
  },
};

/**
 * One step: `tokens` new tokens computed (decodes + prefill chunks), attending to
 * `contextTokens` tokens of KV in all (each scheduled sequence's context, new tokens included).
 */
export function stepTimeMs(gpu: GpuProfile, tokens: number, contextTokens: number): number {
  const memorySeconds = (gpu.weightBytes + gpu.kvBytesPerToken * contextTokens) / gpu.memoryBytesPerSecond;
  const computeSeconds = (2 * gpu.params * tokens) / gpu.flopsPerSecond;
  return gpu.stepOverheadMs + 1000 * Math.max(memorySeconds, computeSeconds);
}
