/**
 * "skylark-tiny": a deterministic, hand-designed llama-architecture GGUF (~750K f32 params)
 * that tests and demos can run without downloading weights.
 *
 * Behaviour under greedy decoding: every token predicts the character that follows its last
 * character: digit d → d+1, '9' → '.', a→b … y→z, 'z' → '.', A→B … 'Z' → '.', any other
 * byte / token → '.', and '.' → <|im_end|> (end of generation). So "Count: 7" continues with
 * "89." and "abc" with "defghijklmnopqrstuvwxyz.".
 * The "\n" token is the exception: it copies the prediction of the token 5 positions back. In a
 * ChatML prompt that is the last token of the last user message
 * (content, <|im_end|>, \n, <|im_start|>, assistant, \n), so chat answers the same way.
 * (A "\n" with fewer than 5 tokens before it, or 5 back from another "\n", has no defined answer.)
 *
 * Vocabulary: byte-level BPE, token id = byte for the 256 GPT-2-mapped byte tokens, 16 merges
 * (only "assistant", "user", "system" and their prefixes), <|endoftext|> 272 (BOS), <|im_start|>
 * 273, <|im_end|> 274 (EOS), then 85 reserved control tokens: 360 in all.
 *
 * How (residual stream, n_embd = 128):
 *   dims 0..63   "next-token class" one-hot: slot of the token this token predicts (61 targets)
 *   dim  64      constant 1 (every embedding has the same norm, so RMSNorm keeps it constant)
 *   dim  65      newline flag (only "\n"; it has no class part, so the norms stay equal)
 *   dims 66..127 a seeded random signature per token (makes embeddings of different texts differ)
 * Block 0, heads 0 and 1 use RoPE to attend at a fixed relative offset: keys are constant
 * (from dim 64); a query pair (cos Δθ_i, −sin Δθ_i)·A against key pair (K, 0) scores
 * Σ_i A·K·cos((m−n−Δ)θ_i), which peaks at m−n = Δ. Ordinary tokens use Δ = 0 (themselves), the
 * newline flag switches the query to Δ = 5. V/O copy the class dims (head 0: 0..31, head 1:
 * 32..63) back into the residual. output.weight maps class slot k to its target token with gain β.
 * (One-hot "what comes next" slots rather than random per-token vectors summed per target: "."
 * has ~300 predecessors, and summing that many random vectors would eat the logit margin.)
 * Every other head, layer and every SwiGLU FFN gets small seeded random weights: they do real
 * compute but cannot move the argmax (tiny-model.test.ts checks the logit margin of every token).
 *
 * Only IEEE arithmetic and Math.sqrt/Math.round are used (no Math.random, no transcendental
 * Math functions), so the bytes — and the sha256 pinned in the tests — do not depend on the
 * JS engine's libm.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { md, writeGguf, type GgufMetadataEntry, type GgufTensor } from './gguf-writer.js';
import { mulberry32 } from '../../core/random.js';

export const TINY_MODEL = {
  name: 'skylark-tiny',
  nEmbd: 128,
  nLayer: 4,
  nHead: 4,
  nHeadKv: 4,
  headDim: 32,
  nFf: 256,
  contextLength: 4096,
  /** Low base keeps every rotary frequency high, so the fixed-offset attention peak is sharp. */
  ropeFreqBase: 2,
  rmsEps: 1e-5,
  /** Relative offset of the newline lookback (content, <|im_end|>, \n, <|im_start|>, assistant, \n). */
  lookback: 5,
  seed: 0x5eed_1a4c,
} as const;

/** The standard ChatML Jinja template; node-llama-cpp recognises it as its ChatMLChatWrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// Design constants (see the header comment). Attention: with base 2 the 16 pair frequencies are
// 2^(−i/16) ∈ (0.52, 1], and Σ_i cos(e·θ_i) ≤ 11.72 for every offset 1 ≤ |e| ≤ 4100 (vs 16 at the
// peak), so the peak wins by 4.28·A·K/√32 ≈ 32 nats: softmax leakage over 4096 keys is < 1e-9.
// (With the usual base 10000 most frequencies are tiny and neighbours score almost as high.)
// Output: logit margin ≈ β·(normalised class value) ≈ 23–26; the test measures ≥ 22.8.
const EMB_CLASS = 1; // a: class one-hot magnitude (and the newline flag magnitude)
const EMB_CONST = 1; // c
const EMB_SIG = 0.5; // r: norm of the random signature
const ATT_Q = 6.5; // A (= B for the newline query)
const ATT_K = 6.5; // K
const COPY_GAIN = 0.5; // γ: W_o gain of the copy heads
const OUT_GAIN = 2.5; // β
const NOISE_ATTN = 0.04; // uniform half-width of the random attention weights
const NOISE_FFN = 0.05; // … of the random FFN weights
const NOISE_OUT = 0.01; // … of the random part of output.weight

const CLASS_DIMS = 64;
const DIM_CONST = 64;
const DIM_FLAG = 65;
const DIM_SIG = 66;

export const TOKEN_TYPE = { normal: 1, control: 3 } as const;
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/**
 * The only merges: left-to-right chains for the role names, so "assistant", "user" and "system"
 * are single tokens (the newline lookback relies on "assistant" being one token). Everything else
 * stays byte-level, so ordinary text costs one token per byte — tests can count tokens by eye.
 */
const MERGED_WORDS = ['assistant', 'user', 'system'];

/** Llama-3-style reserved control tokens pad the vocabulary to a realistic 360 entries. */
const RESERVED_TOKENS = 85;

/** GPT-2's reversible byte → printable unicode mapping used for byte-level BPE token strings. */
export function gpt2ByteToUnicode(): string[] {
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
}

export interface TinyVocab {
  tokens: string[];
  tokenTypes: number[];
  merges: string[];
  endOfTextId: number;
  imStartId: number;
  imEndId: number;
  newlineId: number;
  /** next[t] = token greedily predicted after token t; −1 for "\n" (it looks back instead). */
  next: Int32Array;
}

/** Builds the byte-level BPE vocabulary: 256 byte tokens (id = byte), merged words, specials. */
export function buildTinyVocab(): TinyVocab {
  const byteChar = gpt2ByteToUnicode();
  const tokens = byteChar.slice();
  const lastByte: number[] = Array.from({ length: 256 }, (_, b) => b);
  const index = new Map(tokens.map((t, i) => [t, i]));
  const merges: string[] = [];
  for (const word of MERGED_WORDS) {
    const chars = [...new TextEncoder().encode(word)].map((b) => byteChar[b]!);
    let left = chars[0]!;
    for (const right of chars.slice(1)) {
      // Left-to-right chain: every intermediate ("as", "ass", …) is itself a token.
      const merged = left + right;
      if (!index.has(merged)) {
        merges.push(`${left} ${right}`);
        index.set(merged, tokens.length);
        tokens.push(merged);
        lastByte.push(word.charCodeAt(word.length - 1));
      }
      left = merged;
    }
  }
  const tokenTypes: number[] = tokens.map(() => TOKEN_TYPE.normal);
  const specialStart = tokens.length;
  for (const s of SPECIAL_TOKENS) {
    tokens.push(s);
    tokenTypes.push(TOKEN_TYPE.control);
  }
  for (let i = 0; i < RESERVED_TOKENS; i++) {
    tokens.push(`<|reserved_special_token_${i}|>`);
    tokenTypes.push(TOKEN_TYPE.control);
  }
  const [endOfTextId, imStartId, imEndId] = [specialStart, specialStart + 1, specialStart + 2];
  const newlineId = 0x0a;

  const byteNext = (b: number): number => {
    const ch = String.fromCharCode(b);
    if (ch >= '0' && ch <= '8') return b + 1;
    if ((ch >= 'a' && ch <= 'y') || (ch >= 'A' && ch <= 'Y')) return b + 1;
    if (ch === '.') return imEndId;
    return 0x2e; // '.'
  };
  const next = new Int32Array(tokens.length);
  for (let t = 0; t < tokens.length; t++) {
    if (t === newlineId) next[t] = -1;
    else if (t >= specialStart) next[t] = 0x2e;
    else next[t] = byteNext(t < 256 ? t : lastByte[t]!);
  }
  return { tokens, tokenTypes, merges, endOfTextId, imStartId, imEndId, newlineId, next };
}


/** Independent stream per tensor name (FNV-1a), so editing one tensor never reshuffles another. */
function rngFor(name: string): () => number {
  let h = 0x811c9dc5;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return mulberry32((h ^ TINY_MODEL.seed) >>> 0);
}

function uniform(n: number, halfWidth: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * halfWidth;
  return a;
}

/** cos/sin by Taylor series after reduction to [−π, π]: plain arithmetic, engine-independent. */
function cosSin(x: number): [number, number] {
  const twoPi = 6.283185307179586;
  const r = x - twoPi * Math.round(x / twoPi);
  let c = 0;
  let s = 0;
  let term = 1; // r^n / n!
  for (let n = 0; n < 40; n++) {
    const k = n % 4;
    if (k === 0) c += term;
    else if (k === 1) s += term;
    else if (k === 2) c -= term;
    else s -= term;
    term *= r / (n + 1);
  }
  return [c, s];
}

/** θ_i = base^(−2i/n_rot) = 2^(−i/16) for base 2, n_rot 32: four square roots, then powers. */
function ropeThetas(): number[] {
  if (TINY_MODEL.ropeFreqBase !== 2 || TINY_MODEL.headDim !== 32) throw new Error('ropeThetas assumes base 2, n_rot 32');
  const step = Math.sqrt(Math.sqrt(Math.sqrt(Math.sqrt(0.5))));
  const th: number[] = [1];
  for (let i = 1; i < TINY_MODEL.headDim / 2; i++) th.push(th[i - 1]! * step);
  return th;
}

/** Row-major [out][in] matrix written as a ggml tensor with dims [in, out]. */
interface Mat {
  rows: number;
  cols: number;
  data: Float32Array;
}
const mat = (rows: number, cols: number, data?: Float32Array): Mat => ({ rows, cols, data: data ?? new Float32Array(rows * cols) });
const set = (m: Mat, r: number, c: number, v: number): void => {
  m.data[r * m.cols + c] = v;
};
const tensor = (name: string, m: Mat): GgufTensor => ({ name, dims: [m.cols, m.rows], type: 'F32', data: m.data });
const ones = (name: string, n: number): GgufTensor => ({ name, dims: [n], type: 'F32', data: new Float32Array(n).fill(1) });

export function buildTinyTensors(vocab: TinyVocab = buildTinyVocab()): GgufTensor[] {
  const { nEmbd, nLayer, nHead, headDim, nFf, rmsEps, lookback } = TINY_MODEL;
  const nVocab = vocab.tokens.length;

  // Class slots: one per distinct prediction target.
  const targets = [...new Set(Array.from(vocab.next).filter((t) => t >= 0))].sort((a, b) => a - b);
  if (targets.length > CLASS_DIMS) throw new Error(`too many prediction targets: ${targets.length}`);
  const slotOf = new Map(targets.map((t, i) => [t, i]));

  // token_embd: row t = class one-hot (or newline flag) + constant + random signature of norm r.
  const embd = mat(nVocab, nEmbd);
  const sigRand = rngFor('token_embd.signature');
  for (let t = 0; t < nVocab; t++) {
    const target = vocab.next[t]!;
    if (target >= 0) set(embd, t, slotOf.get(target)!, EMB_CLASS);
    else set(embd, t, DIM_FLAG, EMB_CLASS);
    set(embd, t, DIM_CONST, EMB_CONST);
    const sig = uniform(nEmbd - DIM_SIG, 1, sigRand);
    let norm = 0;
    for (const v of sig) norm += v * v;
    norm = Math.sqrt(norm);
    sig.forEach((v, i) => set(embd, t, DIM_SIG + i, (v / norm) * EMB_SIG));
  }

  // output.weight: row j = β on j's class slot (if j is ever predicted) + small noise.
  const out = mat(nVocab, nEmbd, uniform(nVocab * nEmbd, NOISE_OUT, rngFor('output.weight')));
  for (const [target, slot] of slotOf) set(out, target, slot, OUT_GAIN);

  // Block 0's input is an embedding, so after RMSNorm (weight 1) the const and flag dims are
  // exactly 1/rms; scale the designed weights by rms so that q and k come out as A and K.
  const rms = Math.sqrt((EMB_CLASS ** 2 + EMB_CONST ** 2 + EMB_SIG ** 2) / nEmbd + rmsEps);
  const thetas = ropeThetas();

  const tensors: GgufTensor[] = [tensor('token_embd.weight', embd), ones('output_norm.weight', nEmbd), tensor('output.weight', out)];
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}`;
    const wq = mat(nHead * headDim, nEmbd, uniform(nHead * headDim * nEmbd, NOISE_ATTN, rngFor(`${p}.attn_q.weight`)));
    const wk = mat(nHead * headDim, nEmbd, uniform(nHead * headDim * nEmbd, NOISE_ATTN, rngFor(`${p}.attn_k.weight`)));
    const wv = mat(nHead * headDim, nEmbd, uniform(nHead * headDim * nEmbd, NOISE_ATTN, rngFor(`${p}.attn_v.weight`)));
    const wo = mat(nEmbd, nHead * headDim, uniform(nEmbd * nHead * headDim, NOISE_ATTN, rngFor(`${p}.attn_output.weight`)));
    if (l === 0) {
      for (const h of [0, 1]) {
        // Clear the copy heads' rows (q, k, v) and columns (o): they are fully designed.
        for (let r = h * headDim; r < (h + 1) * headDim; r++) {
          for (let c = 0; c < nEmbd; c++) {
            set(wq, r, c, 0);
            set(wk, r, c, 0);
            set(wv, r, c, 0);
            set(wo, c, r, 0);
          }
        }
        for (let i = 0; i < headDim / 2; i++) {
          const r0 = h * headDim + 2 * i; // "normal" RoPE rotates adjacent pairs (2i, 2i+1)
          const [cosD, sinD] = cosSin(lookback * thetas[i]!);
          set(wk, r0, DIM_CONST, ATT_K * rms);
          set(wq, r0, DIM_CONST, ATT_Q * rms); // Δ = 0: query pair (A, 0)
          // Newline: flag adds (A·cos Δθ − A, −A·sin Δθ), turning the query into A·(cos Δθ, −sin Δθ).
          set(wq, r0, DIM_FLAG, (ATT_Q * cosD - ATT_Q) * rms);
          set(wq, r0 + 1, DIM_FLAG, -ATT_Q * sinD * rms);
        }
        for (let j = 0; j < headDim; j++) {
          const dim = h * headDim + j; // head h carries class dims h*32 … h*32+31
          set(wv, dim, dim, 1);
          set(wo, dim, dim, COPY_GAIN);
        }
      }
    }
    tensors.push(
      ones(`${p}.attn_norm.weight`, nEmbd),
      tensor(`${p}.attn_q.weight`, wq),
      tensor(`${p}.attn_k.weight`, wk),
      tensor(`${p}.attn_v.weight`, wv),
      tensor(`${p}.attn_output.weight`, wo),
      ones(`${p}.ffn_norm.weight`, nEmbd),
      tensor(`${p}.ffn_gate.weight`, mat(nFf, nEmbd, uniform(nFf * nEmbd, NOISE_FFN, rngFor(`${p}.ffn_gate.weight`)))),
      tensor(`${p}.ffn_up.weight`, mat(nFf, nEmbd, uniform(nFf * nEmbd, NOISE_FFN, rngFor(`${p}.ffn_up.weight`)))),
      tensor(`${p}.ffn_down.weight`, mat(nEmbd, nFf, uniform(nEmbd * nFf, NOISE_FFN, rngFor(`${p}.ffn_down.weight`)))),
    );
  }
  return tensors;
}

export function buildTinyMetadata(vocab: TinyVocab = buildTinyVocab()): GgufMetadataEntry[] {
  const m = TINY_MODEL;
  return [
    md.string('general.architecture', 'llama'),
    md.string('general.name', m.name),
    md.string('general.description', 'Deterministic hand-built test model: each character predicts the next one.'),
    md.uint32('general.alignment', 32),
    md.uint32('general.file_type', 0), // ALL_F32
    md.uint32('llama.context_length', m.contextLength),
    md.uint32('llama.embedding_length', m.nEmbd),
    md.uint32('llama.block_count', m.nLayer),
    md.uint32('llama.feed_forward_length', m.nFf), // missing → llama.cpp aborts the process
    md.uint32('llama.attention.head_count', m.nHead), // missing → llama.cpp aborts the process
    md.uint32('llama.attention.head_count_kv', m.nHeadKv),
    md.float32('llama.attention.layer_norm_rms_epsilon', m.rmsEps),
    md.uint32('llama.rope.dimension_count', m.headDim),
    md.float32('llama.rope.freq_base', m.ropeFreqBase),
    md.uint32('llama.vocab_size', vocab.tokens.length),
    md.string('tokenizer.ggml.model', 'gpt2'),
    // "qwen2" pre-tokenizer: with "gpt-2" llama.cpp "cleans" spaces before punctuation on decode.
    md.string('tokenizer.ggml.pre', 'qwen2'),
    md.array('tokenizer.ggml.tokens', 'string', vocab.tokens),
    md.array('tokenizer.ggml.token_type', 'int32', vocab.tokenTypes),
    md.array('tokenizer.ggml.merges', 'string', vocab.merges),
    md.uint32('tokenizer.ggml.bos_token_id', vocab.endOfTextId),
    md.uint32('tokenizer.ggml.eos_token_id', vocab.imEndId),
    md.uint32('tokenizer.ggml.padding_token_id', vocab.endOfTextId),
    md.bool('tokenizer.ggml.add_bos_token', false),
    md.bool('tokenizer.ggml.add_eos_token', false),
    md.string('tokenizer.chat_template', CHATML_TEMPLATE),
  ];
}

/** The complete tiny model as GGUF bytes (byte-identical on every call). */
export function buildTinyModel(): Uint8Array {
  const vocab = buildTinyVocab();
  return writeGguf({ metadata: buildTinyMetadata(vocab), tensors: buildTinyTensors(vocab) });
}

/**
 * Writes the tiny model atomically (temp file + rename), so a server or test that finds the path
 * never sees a half-written file, even when several processes generate it at once.
 */
export async function writeTinyModel(path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(tmp, buildTinyModel());
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
