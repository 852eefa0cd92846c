import { SkylarkError, toSkylarkError } from '../core/errors.js';
import { parseRequest } from '../contracts/parse.js';
import { embeddingRequestSchema } from '../contracts/completion-request.js';
import type { EmbeddingList } from '../contracts/responses.js';
import { settleUsage } from './metering.js';
import { holdForRequest } from './paid-request.js';
import { resolveTarget } from './resolve-model.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

/** POST /v1/embeddings: float arrays, or base64 of little-endian float32 as OpenAI's SDKs expect. */
export async function createEmbeddings(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<EmbeddingList> {
  const request = parseRequest(embeddingRequestSchema, body);
  const target = await resolveTarget(deps, context.principal, request.model, 'embeddings');
  const { model } = target;
  const input = toTextInputs(request.input);
  const hold = await holdForRequest(deps, context, target, input, 0);
  const started = deps.clock.now();
  context.servedReplica = model.engine.id; // embeddings are short: they go straight to the first replica, unscheduled
  const labels = { context, model: model.id, endpoint: 'embeddings' as const, hold };
  const record = (promptTokens: number, status: 'ok' | 'error', errorCode?: string) =>
    settleUsage(deps, labels, started, { promptTokens, completionTokens: 0, cachedPromptTokens: 0 }, status, errorCode);
  let result;
  try {
    result = await model.engine.embed({
      model: model.engineModel,
      input,
      signal: context.signal,
      requestId: context.requestId,
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
    });
  } catch (error) {
    await record(0, 'error', toSkylarkError(error).code);
    throw error;
  }
  await record(result.promptTokens, 'ok');
  const base64 = request.encoding_format === 'base64';
  return {
    object: 'list',
    data: result.embeddings.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model: model.id,
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
