/**
 * V8 settings for a long-running gateway, applied by bin/skylark.js for `serve` before anything
 * else is loaded (docs/benchmarks.md "Memory" has the figures). SKYLARK_V8_TUNING chooses:
 *
 * - unset (the default):
 *   - `--liftoff-only`: undici parses upstream responses with llhttp compiled to WebAssembly.
 *     On the first requests V8 tiers its large state-machine function up with TurboFan, whose
 *     compile zones took 30–40 MB of transient native memory — the gateway's peak RSS — and
 *     left ~12 MB of malloc arenas resident, to make a parse that is a few µs of a request
 *     slightly faster.
 *   - `--semi-space-growth-factor=1` during start-up only: loading ~900 modules made V8 grow
 *     the young generation to 2 × 16 MB, resident for the rest of the process although a
 *     request's garbage is a few KB. Once the server listens, `servingStarted()` restores
 *     V8's factor (2), so under load the young generation grows as far as V8 finds worth it
 *     and scavenges stay as rare as without the flag.
 * - `memory`: the default's flags, plus `--heap-growing-percent=20`: the old generation may
 *   grow only 20 % past what the last full GC kept before the next one starts, instead of
 *   V8's 1.5–4×, so the garbage promoted under load is collected before it is resident. At
 *   ~800 req/s it held the old space near 40 MB instead of 50–110 MB. It costs CPU (more full
 *   GCs); run with `NODE_OPTIONS=--max-semi-space-size=4` as well to cap the young
 *   generation, which V8 only reads when the heap is created. (This mode used to keep the
 *   young generation at 1 MB for the whole life: at high rates more objects were promoted
 *   and the old space grew instead, so its peak was no lower than the default's.)
 * - `off`: V8's own defaults.
 *
 * These flags are read by V8 when it compiles a function or resizes the heap, so setting them
 * at run time takes effect (unlike --max-semi-space-size, fixed when the heap is created).
 */
import v8 from 'node:v8';

export type V8Tuning = 'default' | 'memory' | 'off';

export const servingV8Flags = ['--liftoff-only', '--semi-space-growth-factor=1'] as const;
export const memoryModeV8Flags = ['--heap-growing-percent=20'] as const;
const v8SemiSpaceGrowthFactor = 2;

let restoreAfterStart = false;

export function v8TuningOf(env: NodeJS.ProcessEnv): V8Tuning {
  const value = env.SKYLARK_V8_TUNING;
  return value === 'memory' || value === 'off' ? value : 'default';
}

export function tuneV8ForServing(env: NodeJS.ProcessEnv): void {
  const tuning = v8TuningOf(env);
  if (tuning === 'off') return;
  for (const flag of servingV8Flags) v8.setFlagsFromString(flag);
  if (tuning === 'memory') for (const flag of memoryModeV8Flags) v8.setFlagsFromString(flag);
  restoreAfterStart = true;
}

/** Start-up is over (the server listens): let the young generation size itself to the load. */
export function servingStarted(): void {
  if (!restoreAfterStart) return;
  restoreAfterStart = false;
  v8.setFlagsFromString(`--semi-space-growth-factor=${v8SemiSpaceGrowthFactor}`);
}
