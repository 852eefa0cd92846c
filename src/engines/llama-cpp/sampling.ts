import { TokenBias, type LlamaModel, type LLamaContextualRepeatPenalty, type Token } from 'node-llama-cpp';
import { SkylarkError } from '../../core/errors.js';
import type { SamplingOptions } from '../engine.js';

export interface LlamaSampling {
  temperature: number;
  topP?: number;
  topK?: number;
  seed?: number;
  repeatPenalty?: LLamaContextualRepeatPenalty;
  tokenBias?: TokenBias;
  customStopTriggers?: string[];
}

/** OpenAI's default temperature is 1; node-llama-cpp's is 0 (greedy). Follow OpenAI. */
const defaultTemperature = 1;

export function toLlamaSampling(options: SamplingOptions, model: LlamaModel, vocabularySize: number): LlamaSampling {
  const sampling: LlamaSampling = { temperature: options.temperature ?? defaultTemperature };
  if (options.topP !== undefined) sampling.topP = options.topP;
  if (options.topK !== undefined) sampling.topK = options.topK;
  if (options.seed !== undefined) sampling.seed = options.seed;
  if (options.stop && options.stop.length > 0) sampling.customStopTriggers = options.stop;
  if (options.presencePenalty || options.frequencyPenalty) {
    // OpenAI's penalties are additive on logits, like llama.cpp's; the multiplicative
    // repeat penalty stays neutral (1) so only what the client asked for applies.
    sampling.repeatPenalty = {
      penalty: 1,
      presencePenalty: options.presencePenalty ?? 0,
      frequencyPenalty: options.frequencyPenalty ?? 0,
      penalizeNewLine: true,
      lastTokens: 64,
    };
  }
  if (options.logitBias && Object.keys(options.logitBias).length > 0) {
    sampling.tokenBias = toTokenBias(options.logitBias, model, vocabularySize);
  }
  return sampling;
}

function toTokenBias(logitBias: Record<string, number>, model: LlamaModel, vocabularySize: number): TokenBias {
  const bias = new TokenBias(model.tokenizer);
  for (const [key, value] of Object.entries(logitBias)) {
    const token = Number(key);
    if (!Number.isInteger(token) || token < 0 || token >= vocabularySize) {
      throw new SkylarkError(
        'invalid_request',
        `logit_bias has token id '${key}', but this model's vocabulary has ids 0 to ${vocabularySize - 1}.`,
        { param: 'logit_bias' },
      );
    }
    // -100 means "ban" in OpenAI's API; anything else is an additive logit offset.
    bias.set(token as Token, value <= -100 ? 'never' : { logit: value });
  }
  return bias;
}
