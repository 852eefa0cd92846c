import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import {
  ChatMLChatWrapper,
  getLlama,
  LlamaChatSession,
  LlamaCompletion,
  LlamaLogLevel,
  type ChatHistoryItem,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyModel, buildTinyVocab, CHATML_TEMPLATE, TINY_MODEL, writeTinyModel } from './tiny-model.js';

/** Pinned so that any change to the generator (or to JS number semantics) is noticed. */
const TINY_SHA256 = '22ed55e802b809037a727b1ef92fc8d6b71d821d32dccd6db9ac3c74693961be';
const ALPHABET_TAIL = 'defghijklmnopqrstuvwxyz.';

describe('tiny model file', () => {
  it('is byte-identical on every build', () => {
    const a = buildTinyModel();
    const b = buildTinyModel();
    expect(Buffer.compare(a, b)).toBe(0);
    expect(createHash('sha256').update(a).digest('hex')).toBe(TINY_SHA256);
  });

  it('has the expected vocabulary', () => {
    const v = buildTinyVocab();
    expect(v.tokens.length).toBe(360);
    expect(v.merges).toHaveLength(16); // role names only: other text stays one token per byte
    expect([v.endOfTextId, v.imStartId, v.imEndId]).toEqual([272, 273, 274]);
    expect(v.tokens.slice(272, 275)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(v.tokens.at(-1)).toBe('<|reserved_special_token_84|>');
    expect(v.tokenTypes.slice(272).every((t) => t === 3)).toBe(true); // CONTROL
    expect(v.tokens[10]).toBe('Ċ'); // GPT-2 byte→unicode for "\n"
    expect(v.tokens[32]).toBe('Ġ');
    // Every merge joins two existing tokens into a token that exists.
    for (const m of v.merges) {
      const [l, r] = m.split(' ') as [string, string];
      expect(v.tokens).toContain(l);
      expect(v.tokens).toContain(r);
      expect(v.tokens).toContain(l + r);
    }
    for (const w of ['as', 'ass', 'assi', 'assis', 'assist', 'assista', 'assistan', 'assistant', 'us', 'use', 'user', 'system']) {
      expect(v.tokens).toContain(w);
    }
  });

  it('parses with @huggingface/gguf with the expected metadata and tensors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skylark-tiny-'));
    try {
      const path = join(dir, 'tiny.gguf');
      await writeTinyModel(path);
      const { metadata, tensorInfos, parameterCount } = await gguf(path, { allowLocalFile: true, computeParametersCount: true });
      const m = metadata as unknown as Record<string, unknown>;
      expect(m).toMatchObject({
        'general.architecture': 'llama',
        'general.name': 'skylark-tiny',
        'general.alignment': 32,
        'general.file_type': 0,
        'llama.context_length': 4096,
        'llama.embedding_length': 128,
        'llama.block_count': 4,
        'llama.feed_forward_length': 256,
        'llama.attention.head_count': 4,
        'llama.attention.head_count_kv': 4,
        'llama.rope.dimension_count': 32,
        'llama.rope.freq_base': 2,
        'llama.vocab_size': 360,
        'tokenizer.ggml.model': 'gpt2',
        'tokenizer.ggml.pre': 'qwen2',
        'tokenizer.ggml.bos_token_id': 272,
        'tokenizer.ggml.eos_token_id': 274,
        'tokenizer.ggml.add_bos_token': false,
        'tokenizer.chat_template': CHATML_TEMPLATE,
      });
      expect(m['llama.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-5, 10);
      const blk = (i: number) => [
        [`blk.${i}.attn_norm.weight`, [128n]],
        [`blk.${i}.attn_q.weight`, [128n, 128n]],
        [`blk.${i}.attn_k.weight`, [128n, 128n]],
        [`blk.${i}.attn_v.weight`, [128n, 128n]],
        [`blk.${i}.attn_output.weight`, [128n, 128n]],
        [`blk.${i}.ffn_norm.weight`, [128n]],
        [`blk.${i}.ffn_gate.weight`, [128n, 256n]],
        [`blk.${i}.ffn_up.weight`, [128n, 256n]],
        [`blk.${i}.ffn_down.weight`, [256n, 128n]],
      ];
      expect(tensorInfos.map((t) => [t.name, t.shape])).toEqual([
        ['token_embd.weight', [128n, 360n]],
        ['output_norm.weight', [128n]],
        ['output.weight', [128n, 360n]],
        ...[0, 1, 2, 3].flatMap(blk),
      ]);
      expect(tensorInfos.every((t) => t.dtype === 0)).toBe(true);
      expect(parameterCount).toBe(748_672);
      expect((await stat(path)).size).toBe(3_005_856);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tiny model in llama.cpp', () => {
  let dir: string;
  let llama: Llama;
  let model: LlamaModel;
  let context: LlamaContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skylark-tiny-'));
    const modelPath = join(dir, 'tiny.gguf');
    await writeTinyModel(modelPath);
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
    model = await llama.loadModel({ modelPath });
    // threads: 1 matters: node-llama-cpp's default (≥ 4 threads) is ~500× slower on a 2-core box.
    context = await model.createContext({ threads: 1, contextSize: TINY_MODEL.contextLength });
  });
  afterAll(async () => {
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function withSequence<T>(fn: (seq: LlamaContextSequence) => Promise<T>): Promise<T> {
    const seq = context.getSequence();
    try {
      return await fn(seq);
    } finally {
      seq.dispose();
    }
  }

  it('tokenizes role names as single tokens and merged words to themselves', () => {
    const v = buildTinyVocab();
    for (const w of ['assistant', 'user', 'system']) expect(model.tokenize(w)).toEqual([v.tokens.indexOf(w)]);
    for (const s of ['<|endoftext|>', '<|im_start|>', '<|im_end|>']) expect(model.tokenize(s, true)).toEqual([v.tokens.indexOf(s)]);
    expect(model.tokenize('\n')).toEqual([v.newlineId]);
    expect(model.tokenize('Count: 7').map((t) => model.detokenize([t]))).toEqual(['C', 'o', 'u', 'n', 't', ':', ' ', '7']);
    expect(model.tokenize(' hello assistant')).toHaveLength(8); // Ġ h e l l o Ġ assistant
    expect(model.tokens.eos).toBe(v.imEndId);
    expect(model.tokens.shouldPrependBosToken).toBe(false);
  });

  it.each([
    ['Count: 7', '89.'],
    ['abc', ALPHABET_TAIL],
    ['XY', 'Z.'],
    ['Hello world', 'efghijklmnopqrstuvwxyz.'],
    ['x = 9', '.'],
    ['Done.', ''], // "." → <|im_end|>
  ])('completes %j greedily as %j', async (prompt, expected) => {
    await withSequence(async (contextSequence) => {
      const completion = new LlamaCompletion({ contextSequence });
      expect(await completion.generateCompletion(prompt, { temperature: 0, maxTokens: 64 })).toBe(expected);
    });
  });

  it('answers chats through the ChatML wrapper (default system prompt, then a second turn)', async () => {
    await withSequence(async (contextSequence) => {
      const session = new LlamaChatSession({ contextSequence });
      expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper);
      expect(await session.prompt('Count: 7', { temperature: 0, maxTokens: 64 })).toBe('89.');
      // The previous turn stays in the history (and in the KV cache).
      expect(await session.prompt('abc', { temperature: 0, maxTokens: 64 })).toBe(ALPHABET_TAIL);
      expect(session.getChatHistory().map((h) => h.type)).toEqual(['system', 'user', 'model', 'user', 'model']);
    });
  });

  it('answers with a custom system prompt and a preset history', async () => {
    await withSequence(async (contextSequence) => {
      const session = new LlamaChatSession({ contextSequence, systemPrompt: 'You count.' });
      const history: ChatHistoryItem[] = [
        { type: 'system', text: 'You count.' },
        { type: 'user', text: 'Count: 1' },
        { type: 'model', response: ['23456789.'] },
      ];
      session.setChatHistory(history);
      expect(await session.prompt('Count: 7', { temperature: 0, maxTokens: 64 })).toBe('89.');
      expect(await session.prompt('abc', { temperature: 0, maxTokens: 64 })).toBe(ALPHABET_TAIL);
    });
  });

  it('renders ChatML with the user content exactly 5 tokens before the generation point', () => {
    const wrapper = new ChatMLChatWrapper();
    const { contextText } = wrapper.generateContextState({
      chatHistory: [
        { type: 'system', text: 'Be brief.' },
        { type: 'user', text: 'Count: 7' },
        { type: 'model', response: [] },
      ],
    });
    // node-llama-cpp's ChatML wrapper emits a BOS special token even though add_bos_token is false.
    expect(contextText.toString()).toBe('BOS<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nCount: 7<|im_end|>\n<|im_start|>assistant\n');
    const tail = contextText.tokenize(model.tokenizer).slice(-6).map((t) => model.detokenize([t], true));
    expect(tail).toEqual(['7', '<|im_end|>', '\n', '<|im_start|>', 'assistant', '\n']);
  });

  it('gives the same answers when sampling at temperature 1', async () => {
    await withSequence(async (contextSequence) => {
      const session = new LlamaChatSession({ contextSequence });
      for (const seed of [1, 2, 3]) {
        expect(await session.prompt('Count: 7', { temperature: 1, seed, maxTokens: 64 })).toBe('89.');
      }
    });
  });

  it('predicts every token with a logit margin ≥ 20 at every position of a full 4096 context', async () => {
    const v = buildTinyVocab();
    const assistant = v.tokens.indexOf('assistant');
    // Frames "t <|im_end|> \n <|im_start|> assistant \n": t must predict next(t) and so must the
    // final "\n" (5 back is t). Shuffled deterministically so t sits at many distances/positions.
    const input: number[] = [];
    const expected: (number | undefined)[] = [];
    let s = 12345;
    while (input.length + 6 <= TINY_MODEL.contextLength) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const t = s % v.tokens.length;
      const target = v.next[t]! >= 0 ? v.next[t] : undefined;
      input.push(t, v.imEndId, v.newlineId, v.imStartId, assistant, v.newlineId);
      expected.push(target, v.next[v.imEndId], undefined, v.next[v.imStartId], v.next[assistant], target);
    }
    const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    const outputs = await withSequence((seq) =>
      seq.controlledEvaluate(input.map((n) => n as Token).map((t, i) => (expected[i] === undefined ? t : [t, { generateNext: { probabilities: true, options: sampling } }]))),
    );
    let minMargin = Infinity;
    let checked = 0;
    for (let i = 0; i < input.length; i++) {
      if (expected[i] === undefined) continue;
      const [[top, p1] = [-1, 0], [, p2] = [-1, 0]] = [...(outputs[i]?.next.probabilities ?? new Map<number, number>())];
      expect(top, `position ${i} (token ${JSON.stringify(v.tokens[input[i]!])})`).toBe(expected[i]);
      minMargin = Math.min(minMargin, Math.log(p1) - Math.log(p2)); // = logit(top) − logit(second)
      checked++;
    }
    expect(checked).toBeGreaterThan(3000);
    expect(minMargin).toBeGreaterThanOrEqual(20);
  });

  it('works as an embedding model', async () => {
    const embeddingContext = await model.createEmbeddingContext({ threads: 1 });
    try {
      const hello = await embeddingContext.getEmbeddingFor('hello');
      const world = await embeddingContext.getEmbeddingFor('world');
      expect(hello.vector).toHaveLength(128);
      expect(hello.vector.every(Number.isFinite)).toBe(true);
      expect(hello.calculateCosineSimilarity(world)).toBeLessThan(0.99);
    } finally {
      await embeddingContext.dispose();
    }
  });
});
