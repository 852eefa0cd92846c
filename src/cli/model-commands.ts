import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
// inspect.js pulls in node-llama-cpp: imported by the command that needs it, not by every CLI start.
import type { GgufSummary } from '../engines/gguf/inspect.js';
import { writeTinyModel } from '../engines/gguf/tiny-model.js';

/** `skylark model tiny|inspect`: generate the built-in test model, look inside GGUF files. */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('Work with GGUF model files');

  model
    .command('tiny')
    .description('Write the built-in deterministic tiny llama model (skylark-tiny, ~3 MB)')
    .requiredOption('--out <file>', 'where to write the .gguf file')
    .action(async (options: { out: string }) => {
      const path = resolve(options.out);
      await writeTinyModel(path);
      const bytes = await readFile(path);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      process.stdout.write(`${path}\n  size    ${bytes.length} bytes\n  sha256  ${sha256}\n`);
    });

  model
    .command('inspect')
    .description('Print the metadata of a GGUF file and whether llama.cpp can load it')
    .argument('<file>', 'the .gguf file')
    .option('--json', 'print JSON instead of a table')
    .action(async (file: string, options: { json?: boolean }) => {
      const path = resolve(file);
      const { inspectGguf, validateLlamaLoadable } = await import('../engines/gguf/inspect.js');
      let summary: GgufSummary;
      try {
        summary = await inspectGguf(path);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      // The header may parse and still describe a model that would crash llama.cpp: say so.
      const loadable = await validateLlamaLoadable(path).then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, reason: (error as Error).message }),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...summary, llamaLoadable: loadable }, null, 2)}\n`);
      } else {
        process.stdout.write(formatSummary(summary, loadable.ok ? 'yes' : `NO: ${loadable.reason}`));
      }
      if (!loadable.ok) process.exitCode = 1;
    });
}

const show = (v: unknown): string => (v === undefined ? '-' : String(v));

/** Human-readable report: the headline facts, then every metadata key (long arrays abbreviated). */
export function formatSummary(s: GgufSummary, loadable: string): string {
  const rows: [string, string][] = [
    ['file', s.path],
    ['size', `${s.fileSizeBytes} bytes`],
    ['gguf version', show(s.ggufVersion)],
    ['architecture', show(s.architecture)],
    ['name', show(s.name)],
    ['context length', show(s.contextLength)],
    ['embedding length', show(s.embeddingLength)],
    ['layers', show(s.blockCount)],
    ['attention heads', s.headCountKv !== undefined && s.headCountKv !== s.headCount ? `${show(s.headCount)} (kv ${s.headCountKv})` : show(s.headCount)],
    ['feed-forward length', show(s.feedForwardLength)],
    ['vocabulary', s.tokenizerModel ? `${show(s.vocabSize)} tokens (${s.tokenizerModel})` : show(s.vocabSize)],
    ['chat template', s.hasChatTemplate ? 'yes' : 'no'],
    ['tensors', show(s.tensorCount)],
    ['file type', s.fileType === undefined ? '-' : `${s.fileTypeName} (${s.fileType})`],
    ['parameters', s.parameterCount.toLocaleString('en-US')],
    ['llama.cpp loadable', loadable],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  let out = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
  const keys = Object.keys(s.metadata).sort();
  const keyWidth = Math.max(0, ...keys.map((k) => k.length));
  out += '\n\nmetadata:\n';
  for (const key of keys) {
    const raw = s.metadata[key];
    let value =
      typeof raw === 'string'
        ? raw.replace(/\r?\n/g, '\\n')
        : typeof raw === 'number' && !Number.isInteger(raw)
          ? String(Number(raw.toPrecision(7))) // most float metadata is float32: 1e-5, not 0.0000099999997
          : String(raw);
    if (value.length > 120) value = `${value.slice(0, 117)}...`;
    out += `  ${key.padEnd(keyWidth)}  ${value}\n`;
  }
  return out;
}
