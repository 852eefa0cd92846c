import type { GenerationPart } from '../engines/engine.js';

/** The place in line of a waiting request: SSE writes it as a comment, JSON ignores it. */
export class QueueNotice {
  constructor(
    readonly position: number,
    readonly etaMs: number,
  ) {}

  /** An SSE comment line, which OpenAI's clients skip. */
  toComment(): string {
    return `: queue position=${this.position} eta_ms=${Math.round(this.etaMs)}\n\n`;
  }
}

/** What a scheduled generation yields: the engine's parts, after places in line while it waits. */
export type StreamPart = GenerationPart | QueueNotice;
