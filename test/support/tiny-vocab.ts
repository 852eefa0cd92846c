import { gguf } from '@huggingface/gguf';
import { tinyModelPath } from './paths.js';

let tokens: Promise<string[]> | undefined;

/** Token id of a single-token string in the tiny model's vocabulary (GPT-2 byte mapping). */
export async function tinyTokenId(text: string): Promise<number> {
  tokens ??= gguf(tinyModelPath, { allowLocalFile: true }).then(
    ({ metadata }) => (metadata as unknown as Record<string, string[]>)['tokenizer.ggml.tokens']!,
  );
  const id = (await tokens).indexOf(text);
  if (id < 0) throw new Error(`'${text}' is not one token of the tiny model`);
  return id;
}
