import type { ChatCompletionChunk } from '../contracts/responses.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import { stoppedEarly, toWireFinishReason, toWireUsage } from './generation.js';

interface ChunkIdentity {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
}

/**
 * Engine parts → OpenAI chunks, one chunk per part as it arrives (nothing is held back).
 * The first chunk announces the assistant role, as OpenAI's does; with include_usage the
 * last chunk has empty choices and the usage. An engine error mid-stream is thrown, and
 * the HTTP layer turns it into a final `data: {"error": …}` event.
 */
export async function* chatChunks(
  parts: AsyncIterable<StreamPart>,
  identity: ChunkIdentity,
): AsyncGenerator<ChatCompletionChunk | QueueNotice> {
  // identity.model is read per chunk: a request that waited learns its model (maybe a fallback) when granted.
  // Each chunk is one literal, not spread from a base object and an optional `usage`: this
  // runs once per token, and the spreads cost two short-lived objects per chunk (bench:alloc).
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => {
    const choices = [{ index: 0, delta, logprobs: null, finish_reason: finish }];
    const { id, created, model } = identity;
    return identity.includeUsage
      ? { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_skylark', choices, usage: null }
      : { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_skylark', choices };
  };

  let announced = false;
  for await (const part of parts) {
    if (part instanceof QueueNotice) {
      yield part;
      continue;
    }
    // The role chunk opens the answer, once a replica is working on it.
    if (!announced) {
      announced = true;
      yield chunk({ role: 'assistant', content: '', refusal: null });
    }
    switch (part.type) {
      case 'text-delta':
        yield chunk({ content: part.text });
        break;
      case 'reasoning-delta':
        yield chunk({ reasoning_content: part.text });
        break;
      case 'tool-call-delta':
        yield chunk({
          tool_calls: [
            {
              index: part.index,
              ...(part.id ? { id: part.id, type: 'function' as const } : {}),
              function: { ...(part.name ? { name: part.name } : {}), arguments: part.argumentsDelta },
            },
          ],
        });
        break;
      case 'finish':
        if (part.finishReason === 'abort') throw stoppedEarly();
        yield chunk({}, toWireFinishReason(part.finishReason));
        if (identity.includeUsage) yield { id: identity.id, object: 'chat.completion.chunk', created: identity.created, model: identity.model, system_fingerprint: 'fp_skylark', choices: [], usage: toWireUsage(part.usage) };
        return;
      case 'error':
        throw part.error;
    }
  }
}
