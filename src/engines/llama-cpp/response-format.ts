import type { Llama, LlamaGrammar } from 'node-llama-cpp';
import { SkylarkError } from '../../core/errors.js';
import type { ResponseFormat } from '../engine.js';

/** json_object and json_schema are enforced by grammar: the model cannot emit anything else. */
export async function responseFormatGrammar(llama: Llama, format: ResponseFormat): Promise<LlamaGrammar | undefined> {
  if (format.type === 'json_object') return llama.getGrammarFor('json');
  if (format.type !== 'json_schema') return undefined;
  try {
    return await llama.createGrammarForJsonSchema(format.schema as never);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SkylarkError('invalid_request', `response_format.json_schema.schema cannot be enforced: ${reason}`, {
      param: 'response_format.json_schema.schema',
    });
  }
}
