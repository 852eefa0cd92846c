import type { GenerationPart } from '../engines/engine.js';

/** Where the wait will likely end when the scheduler's estimate is uncertain (ms). */
export interface EtaRange {
  lowMs: number;
  highMs: number;
}

/** The range of a scheduler report, when it has one. */
export function etaRangeOf(position: { etaLowMs?: number; etaHighMs?: number }): EtaRange | undefined {
  return position.etaLowMs === undefined || position.etaHighMs === undefined ? undefined : { lowMs: position.etaLowMs, highMs: position.etaHighMs };
}

/**
 * `: queue position=N eta_ms=M`, plus ` eta_range_ms=L-H` where the estimate is uncertain:
 * an SSE comment, which OpenAI's clients skip; clients that read it keep `eta_ms` as the point.
 */
export function queueComment(position: number, etaMs: number, range?: EtaRange): string {
  const span = range === undefined ? '' : ` eta_range_ms=${Math.round(range.lowMs)}-${Math.round(range.highMs)}`;
  return `: queue position=${position} eta_ms=${Math.round(etaMs)}${span}\n\n`;
}

/** The place in line of a waiting request: SSE writes it as a comment, JSON ignores it. */
export class QueueNotice {
  constructor(
    readonly position: number,
    readonly etaMs: number,
    readonly range?: EtaRange,
  ) {}

  toComment(): string {
    return queueComment(this.position, this.etaMs, this.range);
  }
}

/** What a scheduled generation yields: the engine's parts, after places in line while it waits. */
export type StreamPart = GenerationPart | QueueNotice;
