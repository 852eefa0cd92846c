#!/usr/bin/env node
// `serve` sets V8's memory flags (SKYLARK_V8_TUNING) before the CLI's modules load: loading
// them is what grows the young generation (see src/cli/serve-tuning.ts).
if (process.argv[2] === 'serve') {
  const { tuneV8ForServing } = await import('../dist/src/cli/serve-tuning.js');
  tuneV8ForServing(process.env);
}
await import('../dist/src/cli/main.js');
