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
 * - `memory`: both flags for the life of the process (the young generation stays at 1 MB
 *   semi-spaces even under load): less RSS under load, 10–12 % more CPU per request.
 * - `off`: V8's own defaults.
 *
 * Both flags are read by V8 when it compiles a function or resizes the heap, so setting them
 * at run time takes effect (unlike --max-semi-space-size, fixed when the heap is created).
 */
import v8 from 'node:v8';

export type V8Tuning = 'default' | 'memory' | 'off';

export const servingV8Flags = ['--liftoff-only', '--semi-space-growth-factor=1'] as const;
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
  restoreAfterStart = tuning === 'default';
}

/** Start-up is over (the server listens): let the young generation size itself to the load. */
export function servingStarted(): void {
  if (!restoreAfterStart) return;
  restoreAfterStart = false;
  v8.setFlagsFromString(`--semi-space-growth-factor=${v8SemiSpaceGrowthFactor}`);
}
