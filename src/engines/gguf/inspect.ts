/**
 * Reading GGUF headers without loading the model: a summary for `skylark model inspect`, and a
 * pre-flight check that turns files which would make llama.cpp *abort the process* (GGML_ASSERT,
 * not a C++ exception) into an ordinary, catchable Error before the gateway hands them over.
 *
 * Parsing uses node-llama-cpp's `readGgufFileInfo`, which only reads the header section.
 */
import { open, stat } from 'node:fs/promises';
import * as nodeLlamaCpp from 'node-llama-cpp';
import { GgufFileType, readGgufFileInfo, type GgufFileInfo } from 'node-llama-cpp';

export type GgufMetadataPreview = string | number | boolean;

export interface GgufSummary {
  path: string;
  fileSizeBytes: number;
  ggufVersion: number;
  architecture: string | undefined;
  name: string | undefined;
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  blockCount: number | undefined;
  headCount: number | undefined;
  headCountKv: number | undefined;
  feedForwardLength: number | undefined;
  vocabSize: number | undefined;
  tokenizerModel: string | undefined;
  hasChatTemplate: boolean;
  tensorCount: number;
  /** `general.file_type` and its name (e.g. 0 / "ALL_F32", 15 / "MOSTLY_Q4_K_M"). */
  fileType: number | undefined;
  fileTypeName: string | undefined;
  /** Sum of the element counts of all tensors. */
  parameterCount: number;
  /** Every metadata key, flattened; arrays longer than a few items are abbreviated to a string. */
  metadata: Record<string, GgufMetadataPreview>;
}

/** The tensor data section is not checked by readGgufFileInfo; these sizes let us detect truncation. */
const GGML_TYPE_SIZE: Record<number, [blockSize: number, bytesPerBlock: number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110],
  22: [256, 82], 23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8],
  29: [256, 56], 30: [1, 2], 34: [256, 54], 35: [256, 66], 39: [32, 17],
};

/** Architectures without attention/FFN blocks legitimately store 0 for these keys. */
const RECURRENT_ARCH = /mamba|rwkv/i;
/**
 * Architectures this llama.cpp build knows; unknown ones fail with a normal exception instead.
 * (GgufArchitectureType is typed as a `const enum`, which verbatimModuleSyntax forbids reading,
 * but node-llama-cpp exports it as a real object at run time.)
 */
const KNOWN_ARCH = new Set<string>(
  Object.values((nodeLlamaCpp as unknown as { GgufArchitectureType?: Record<string, string> }).GgufArchitectureType ?? {}),
);

type Flat = Record<string, unknown>;

/** readGgufFileInfo nests metadata by dotted key parts; flatten back to "llama.block_count" form. */
function flatten(node: unknown, prefix = '', out: Flat = {}): Flat {
  if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
    for (const [k, v] of Object.entries(node)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = node;
  }
  return out;
}

function preview(value: unknown): GgufMetadataPreview {
  if (Array.isArray(value)) {
    const head = value.slice(0, 4).map((v) => JSON.stringify(typeof v === 'bigint' ? v.toString() : v));
    return value.length <= 4 ? `[${head.join(', ')}]` : `[${value.length} items: ${head.join(', ')}, …]`;
  }
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

const num = (v: unknown): number | undefined => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  // Some models store per-layer values (arrays); report the maximum.
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return Math.max(...(v as number[]));
  return undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

async function readInfo(path: string): Promise<{ info: GgufFileInfo; size: number }> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error(`GGUF path is not a regular file: ${path}`);
    size = s.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`GGUF file not found: ${path}`);
    throw err;
  }
  // Check the magic ourselves: clearer than a parser error, and a non-GGUF file is common
  // (a .bin/.safetensors, an HTML error page saved by a failed download, …).
  const fh = await open(path, 'r');
  const magic = Buffer.alloc(4);
  try {
    await fh.read(magic, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (size < 4 || magic.toString('latin1') !== 'GGUF') {
    throw new Error(`Not a GGUF file: ${path} (expected magic "GGUF", found ${JSON.stringify(magic.subarray(0, Math.min(size, 4)).toString('latin1'))})`);
  }
  let info: GgufFileInfo;
  try {
    // No split-file splicing: a summary/validation is about this one file.
    info = await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false, sourceType: 'filesystem' });
  } catch (err) {
    throw new Error(`Cannot parse the GGUF header of ${path} (truncated or corrupt file?): ${(err as Error).message}`);
  }
  // node-llama-cpp's file reader zero-fills reads past the end of the file instead of failing,
  // so a header cut short still "parses" (into empty strings); catch that here.
  if (info.infoEndOffset !== undefined && info.infoEndOffset > size) {
    throw new Error(`Cannot parse the GGUF header of ${path} (truncated or corrupt file?): the header needs ${info.infoEndOffset} bytes but the file has ${size}`);
  }
  return { info, size };
}

function tensorElements(dims: readonly (number | bigint)[]): number {
  return dims.reduce<number>((n, d) => n * Number(d), 1);
}

export async function inspectGguf(path: string): Promise<GgufSummary> {
  const { info, size } = await readInfo(path);
  const flat = flatten(info.metadata);
  const arch = str(flat['general.architecture']);
  const a = (key: string): unknown => (arch ? flat[`${arch}.${key}`] : undefined);
  const tokens = flat['tokenizer.ggml.tokens'];
  const fileType = num(flat['general.file_type']);
  const tensors = info.tensorInfo ?? [];
  const metadata: Record<string, GgufMetadataPreview> = {};
  for (const [k, v] of Object.entries(flat)) metadata[k] = preview(v);
  return {
    path,
    fileSizeBytes: size,
    ggufVersion: info.version,
    architecture: arch,
    name: str(flat['general.name']),
    contextLength: num(a('context_length')),
    embeddingLength: num(a('embedding_length')),
    blockCount: num(a('block_count')),
    headCount: num(a('attention.head_count')),
    headCountKv: num(a('attention.head_count_kv')),
    feedForwardLength: num(a('feed_forward_length')),
    vocabSize: num(a('vocab_size')) ?? (Array.isArray(tokens) ? tokens.length : undefined),
    tokenizerModel: str(flat['tokenizer.ggml.model']),
    hasChatTemplate: typeof flat['tokenizer.chat_template'] === 'string' && flat['tokenizer.chat_template'] !== '',
    tensorCount: Number(info.tensorCount),
    fileType,
    fileTypeName: fileType === undefined ? undefined : (GgufFileType[fileType] ?? `unknown (${fileType})`),
    parameterCount: tensors.reduce((n, t) => n + tensorElements(t.dimensions), 0),
    metadata,
  };
}

/**
 * Throws a descriptive Error for files llama.cpp cannot load safely. Covers the cases where
 * llama.cpp would GGML_ASSERT/abort (and take the whole server down) plus obvious file problems:
 *  - missing file, not a GGUF file, unparsable/truncated header, truncated tensor data;
 *  - missing `<arch>.embedding_length`, `<arch>.block_count`, `<arch>.feed_forward_length`,
 *    `<arch>.attention.head_count` (the last two are read as optional, then asserted on);
 *  - byte-level BPE vocabularies without a "\n" token, duplicate token strings (both asserted).
 * Architectures llama.cpp does not know skip the key checks: loading them fails with a normal
 * exception ("unknown model architecture") before any of those keys is read.
 */
export async function validateLlamaLoadable(path: string): Promise<void> {
  const { info, size } = await readInfo(path);
  const flat = flatten(info.metadata);
  const arch = str(flat['general.architecture']);
  if (!arch) throw new Error(`GGUF file ${path} has no "general.architecture" metadata`);

  const recurrent = RECURRENT_ARCH.test(arch);
  const required: [key: string, mustBePositive: boolean][] = !KNOWN_ARCH.has(arch) ? [] : [
    ['embedding_length', true],
    ['block_count', true],
    ['feed_forward_length', !recurrent],
    ['attention.head_count', !recurrent],
  ];
  for (const [suffix, positive] of required) {
    const key = `${arch}.${suffix}`;
    const value = flat[key];
    if (value === undefined) {
      throw new Error(`GGUF file ${path} is missing required metadata key "${key}" (llama.cpp would abort loading it)`);
    }
    const n = num(value);
    if (n === undefined || !Number.isFinite(n) || n < 0 || (positive && n === 0)) {
      throw new Error(`GGUF file ${path} has an invalid value for "${key}": ${JSON.stringify(preview(value))}`);
    }
  }

  const tokens = flat['tokenizer.ggml.tokens'];
  if (Array.isArray(tokens)) {
    if (new Set(tokens).size !== tokens.length) throw new Error(`GGUF file ${path} has duplicate strings in "tokenizer.ggml.tokens"`);
    if (flat['tokenizer.ggml.model'] === 'gpt2' && !tokens.includes('\u010a') && !tokens.includes('\n')) {
      throw new Error(`GGUF file ${path} has a byte-level BPE vocabulary without a newline token`);
    }
  }

  // Tensor data must lie inside the file (a partially downloaded file passes every header check).
  const dataStart = info.infoEndOffset ?? 0;
  for (const t of info.tensorInfo ?? []) {
    const start = Number(t.fileOffset ?? dataStart + Number(t.offset));
    const typeSize = GGML_TYPE_SIZE[t.ggmlType];
    const bytes = typeSize ? Math.ceil(tensorElements(t.dimensions) / typeSize[0]) * typeSize[1] : 1;
    if (start + bytes > size) {
      throw new Error(`GGUF file ${path} is truncated: tensor "${t.name}" needs bytes ${start}..${start + bytes} but the file has ${size} bytes`);
    }
  }
}
