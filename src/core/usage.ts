/** Token usage of one request, as the engine counted it. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the engine's prefix cache (a subset of promptTokens). */
  cachedPromptTokens: number;
}

export const zeroUsage: Usage = Object.freeze({ promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 });

export function totalTokens(usage: Usage): number {
  return usage.promptTokens + usage.completionTokens;
}
