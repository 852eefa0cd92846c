import { SkylarkError } from '../../core/errors.js';

/**
 * The completion budget of one request. Rejecting up front (OpenAI's
 * context_length_exceeded) beats letting llama.cpp shift context and silently drop the
 * start of the conversation.
 */
export function resolveMaxTokens(promptTokens: number, requested: number | undefined, contextSize: number): number {
  const room = contextSize - promptTokens;
  if (requested === undefined) {
    if (room > 0) return room;
  } else if (requested <= room) {
    return requested;
  }
  const completion = requested ?? 1;
  throw new SkylarkError(
    'context_length_exceeded',
    `This model's maximum context length is ${contextSize} tokens. However, you requested ` +
      `${promptTokens + completion} tokens (${promptTokens} in the messages, ${completion} in the completion). ` +
      'Please reduce the length of the messages or completion.',
    { param: 'messages' },
  );
}
