/**
 * V8 settings for a long-running gateway, applied by bin/skylark.js for `serve` before anything
 * else is loaded (bench:peers and docs/benchmarks.md "Memory" have the figures):
 *
 * - `--liftoff-only`: undici parses upstream responses with llhttp compiled to WebAssembly.
 *   On the first requests V8 tiers its large state-machine function up with TurboFan, whose
 *   compile zones took ~30 MB of transient native memory — the gateway's peak RSS — to make
 *   a parse that is a few µs of a request slightly faster.
 * - `--semi-space-growth-factor=1`: keeps V8's young generation at its initial 1 MB
 *   semi-spaces. Start-up (loading modules) made it grow to 2 × 16 MB, resident for the rest
 *   of the process although a request's garbage is a few KB and dies young.
 *
 * Both are read by V8 when it compiles a module or resizes the heap, so setting them at run
 * time takes effect (unlike --max-semi-space-size, fixed when the heap is created).
 *
 * Opt-in (SKYLARK_V8_TUNING=memory): on a quiet machine they cost 10–12 % more CPU per
 * request on the paid path (0.82–0.86 vs 0.74–0.77 ms, more scavenges and unoptimised
 * llhttp), and issue 14 keeps the speed. An operator trading CPU for ~35 MB of RSS per
 * gateway turns them on.
 */
import v8 from 'node:v8';

export const servingV8Flags = ['--liftoff-only', '--semi-space-growth-factor=1'] as const;

export function tuneV8ForServing(env: NodeJS.ProcessEnv): void {
  if (env.SKYLARK_V8_TUNING !== 'memory') return;
  for (const flag of servingV8Flags) v8.setFlagsFromString(flag);
}
