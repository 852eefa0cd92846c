import { SkylarkError } from '../core/errors.js';
import { zeroUsage } from '../core/usage.js';
import { parseRequest } from '../contracts/parse.js';
import { embeddingRequestSchema } from '../contracts/completion-request.js';
import type { EmbeddingList } from '../contracts/responses.js';
import type { EmbeddingResult } from '../engines/engine.js';
import { runCall } from './scheduled-call.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

/**
 * POST /v1/embeddings: float arrays, or base64 of little-endian float32 as OpenAI's SDKs
 * expect. Scheduled like every call (batch lines in the batch tier, behind interactive
 * traffic), billed by the engine's prompt token count.
 */
export async function createEmbeddings(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<EmbeddingList> {
  const request = parseRequest(embeddingRequestSchema, body);
  const input = toTextInputs(request.input);
  let served = request.model;
  const result = await runCall<EmbeddingResult>(deps, context, {
    model: request.model,
    capability: 'embeddings',
    endpoint: 'embeddings',
    promptTexts: input,
    async *run(engine, model) {
      served = model.id;
      yield await engine.embed({
        model: model.engineModel,
        input,
        signal: context.signal,
        requestId: context.requestId,
        ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
      });
    },
    usage: ([embedded]) => ({ ...zeroUsage, promptTokens: embedded?.promptTokens ?? 0 }),
  });
  const base64 = request.encoding_format === 'base64';
  return {
    object: 'list',
    data: result.embeddings.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model: served,
    usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
  };
}

function toTextInputs(input: string | string[] | number[] | number[][]): string[] {
  const texts = typeof input === 'string' ? [input] : input;
  if (texts.every((item): item is string => typeof item === 'string')) {
    texts.forEach((text, index) => {
      if (text === '') {
        throw new SkylarkError('invalid_request', `input[${index}] is empty; each input must contain text.`, {
          param: 'input',
        });
      }
    });
    return texts;
  }
  throw new SkylarkError('unsupported_parameter', 'Token-array input is not supported; send text.', { param: 'input' });
}
