/** What a media request is billed by: images (weighted by size and quality), input characters, audio seconds. */
export type MediaUnitKind = 'image' | 'speech_char' | 'audio_second';

export interface MediaUnits {
  kind: MediaUnitKind;
  /** A non-negative integer count of `kind`. */
  units: number;
}

/** Token usage of one request, as the engine counted it. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the engine's prefix cache (a subset of promptTokens). */
  cachedPromptTokens: number;
  /** Media requests (images, speech, transcription): billed by these units instead of tokens. */
  media?: MediaUnits;
}

export const zeroUsage: Usage = Object.freeze({ promptTokens: 0, completionTokens: 0, cachedPromptTokens: 0 });

export function totalTokens(usage: Usage): number {
  return usage.promptTokens + usage.completionTokens;
}
