import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerModelCommands } from '../../cli/model-commands.js';

// Lives here (not in src/cli) because it exercises this folder's writer and inspector end to end.
describe('skylark model tiny / inspect', () => {
  let dir: string;
  let stdout: string;
  let stderr: string;

  async function run(...args: string[]): Promise<void> {
    stdout = '';
    stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    const program = new Command().exitOverride();
    registerModelCommands(program);
    try {
      await program.parseAsync(['node', 'skylark', ...args]);
    } finally {
      vi.restoreAllMocks();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skylark-cli-'));
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the tiny model and prints path, size and sha256', async () => {
    const out = join(dir, 'tiny.gguf');
    await run('model', 'tiny', '--out', out);
    const bytes = await readFile(out);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(stdout).toBe(`${out}\n  size    ${bytes.length} bytes\n  sha256  ${sha}\n`);
  });

  it('prints a table', async () => {
    const file = join(dir, 'tiny.gguf');
    await run('model', 'inspect', file);
    expect(stdout).toMatch(/^architecture\s+llama$/m);
    expect(stdout).toMatch(/^name\s+skylark-tiny$/m);
    expect(stdout).toMatch(/^parameters\s+748,672$/m);
    expect(stdout).toMatch(/^file type\s+ALL_F32 \(0\)$/m);
    expect(stdout).toMatch(/^llama\.cpp loadable\s+yes$/m);
    expect(stdout).toMatch(/^ {2}llama\.feed_forward_length\s+256$/m);
    expect(process.exitCode).toBeUndefined();
  });

  it('prints JSON', async () => {
    await run('model', 'inspect', join(dir, 'tiny.gguf'), '--json');
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ architecture: 'llama', vocabSize: 360, tensorCount: 39, llamaLoadable: { ok: true } });
  });

  it('reports files that are not GGUF on stderr with exit code 1', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'not a model');
    await run('model', 'inspect', file);
    expect(stderr).toMatch(/^Not a GGUF file: /);
    expect(process.exitCode).toBe(1);
  });
});
