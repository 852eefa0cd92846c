import { LlamaCompletion, type Token } from 'node-llama-cpp';
import type { Usage } from '../../core/usage.js';
import { SkylarkError } from '../../core/errors.js';
import type { CompletionGeneration, GenerationPart } from '../engine.js';
import { resolveMaxTokens } from './context-limits.js';
import type { LoadedLlama } from './engine.js';
import { toLlamaSampling } from './sampling.js';
import { streamedRun } from './streamed-run.js';

/** A raw text completion (/v1/completions): the prompt goes to the model as is. */
export async function* generateCompletion(
  loaded: LoadedLlama,
  request: CompletionGeneration,
): AsyncGenerator<GenerationPart> {
  const { model, pool } = loaded;
  if (request.suffix) {
    throw new SkylarkError('unsupported_parameter', 'suffix (fill-in-the-middle) is not supported by this model.', {
      param: 'suffix',
    });
  }
  const promptTokens = tokenizePrompt(loaded, request.prompt);
  const maxTokens = resolveMaxTokens(promptTokens.length, request.maxTokens, loaded.contextSize);
  const sampling = toLlamaSampling(request, model, loaded.vocabularySize);
  const lease = await pool.acquire(promptTokens, request.signal);
  const usage: Usage = { promptTokens: promptTokens.length, completionTokens: 0, cachedPromptTokens: lease.cachedTokens };

  if (request.echo) yield { type: 'text-delta', text: request.prompt };
  yield* streamedRun(lease, usage, request.signal, async (run) => {
    const completion = new LlamaCompletion({ contextSequence: lease.sequence });
    try {
      const result = await completion.generateCompletionWithMeta(promptTokens, {
        ...sampling,
        repeatPenalty: sampling.repeatPenalty ?? false,
        maxTokens,
        signal: run.signal,
        stopOnAbortSignal: true,
        onToken: (tokens) => run.countTokens(tokens.length),
        onTextChunk: (text) => {
          if (text !== '') run.emit({ type: 'text-delta', text });
        },
      });
      if (result.metadata.stopReason === 'eogToken') run.countTokens(1);
      return { stopReason: result.metadata.stopReason };
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  });
}

/** Special-token text is parsed as special, as llama.cpp's server does, so templated prompts work. */
function tokenizePrompt({ model }: LoadedLlama, prompt: string): Token[] {
  const tokens = model.tokenize(prompt, true);
  const bos = model.tokens.bos;
  if (bos !== null && model.tokens.shouldPrependBosToken && tokens[0] !== bos) return [bos, ...tokens];
  return tokens;
}
