import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md, writeGguf, type GgufMetadataEntry } from './gguf-writer.js';
import { inspectGguf, validateLlamaLoadable } from './inspect.js';
import { buildTinyMetadata, buildTinyModel, buildTinyTensors } from './tiny-model.js';

// None of these files is ever handed to llama.cpp: the broken ones would abort the test process.
describe('inspectGguf / validateLlamaLoadable', () => {
  let dir: string;
  let tinyPath: string;
  const tinyBytes = buildTinyModel();

  /** The tiny model with some metadata entries dropped or replaced. */
  async function variant(name: string, edit: (m: GgufMetadataEntry[]) => GgufMetadataEntry[]): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, writeGguf({ metadata: edit(buildTinyMetadata()), tensors: buildTinyTensors() }));
    return path;
  }
  const without = (key: string) => (m: GgufMetadataEntry[]) => m.filter((e) => e.key !== key);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skylark-inspect-'));
    tinyPath = join(dir, 'tiny.gguf');
    await writeFile(tinyPath, tinyBytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('summarises the tiny model', async () => {
    const s = await inspectGguf(tinyPath);
    expect(s).toMatchObject({
      fileSizeBytes: tinyBytes.length,
      ggufVersion: 3,
      architecture: 'llama',
      name: 'skylark-tiny',
      contextLength: 4096,
      embeddingLength: 128,
      blockCount: 4,
      headCount: 4,
      headCountKv: 4,
      feedForwardLength: 256,
      vocabSize: 360,
      tokenizerModel: 'gpt2',
      hasChatTemplate: true,
      tensorCount: 39,
      fileType: 0,
      fileTypeName: 'ALL_F32',
      parameterCount: 748_672,
    });
    expect(s.metadata['general.architecture']).toBe('llama');
    expect(s.metadata['tokenizer.ggml.tokens']).toMatch(/^\[360 items: /);
  });

  it('accepts the tiny model', async () => {
    await expect(validateLlamaLoadable(tinyPath)).resolves.toBeUndefined();
  });

  it.each(['llama.feed_forward_length', 'llama.attention.head_count', 'llama.embedding_length', 'llama.block_count'])(
    'rejects a file missing %s',
    async (key) => {
      const path = await variant(`no-${key}.gguf`, without(key));
      await expect(validateLlamaLoadable(path)).rejects.toThrow(`missing required metadata key "${key}"`);
    },
  );

  it('rejects a zero head count', async () => {
    const path = await variant('zero-heads.gguf', (m) =>
      m.map((e) => (e.key === 'llama.attention.head_count' ? md.uint32(e.key, 0) : e)),
    );
    await expect(validateLlamaLoadable(path)).rejects.toThrow(/invalid value for "llama.attention.head_count"/);
  });

  it('rejects a file without general.architecture', async () => {
    const path = await variant('no-arch.gguf', without('general.architecture'));
    await expect(validateLlamaLoadable(path)).rejects.toThrow(/no "general.architecture"/);
  });

  it('lets an architecture llama.cpp does not know through', async () => {
    const path = await variant('unknown-arch.gguf', (m) =>
      m.map((e) => (e.key === 'general.architecture' ? md.string(e.key, 'not-a-real-arch') : e)),
    );
    await expect(validateLlamaLoadable(path)).resolves.toBeUndefined();
  });

  it('rejects a truncated file (tensor data cut off)', async () => {
    const path = join(dir, 'truncated-data.gguf');
    await writeFile(path, tinyBytes.subarray(0, Math.floor(tinyBytes.length / 2)));
    await expect(validateLlamaLoadable(path)).rejects.toThrow(/is truncated: tensor "blk\.\d\.[a-z_]+\.weight"/);
  });

  it.each([10, 24, 100, 2000, 9000])('rejects a file whose header is cut off after %i bytes', async (length) => {
    const path = join(dir, `truncated-header-${length}.gguf`);
    await writeFile(path, tinyBytes.subarray(0, length));
    await expect(validateLlamaLoadable(path)).rejects.toThrow(/Cannot parse the GGUF header .* \(truncated or corrupt file\?\)/);
    await expect(inspectGguf(path)).rejects.toThrow(/Cannot parse the GGUF header/);
  });

  it('rejects a file that is not GGUF', async () => {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, '{"__metadata__": {}}');
    await expect(validateLlamaLoadable(path)).rejects.toThrow(/^Not a GGUF file: .*model\.safetensors \(expected magic "GGUF", found "\{\\"__"\)$/);
    const empty = join(dir, 'empty.gguf');
    await writeFile(empty, '');
    await expect(validateLlamaLoadable(empty)).rejects.toThrow(/Not a GGUF file/);
  });

  it('rejects a missing file and a directory', async () => {
    await expect(validateLlamaLoadable(join(dir, 'nope.gguf'))).rejects.toThrow(/GGUF file not found: .*nope\.gguf/);
    await expect(validateLlamaLoadable(dir)).rejects.toThrow(/not a regular file/);
  });
});
