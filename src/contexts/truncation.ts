/**
 * Ark's `truncation_strategy` for session contexts: which of the oldest turns a session
 * forgets so it never outgrows what the client wants to pay for, or the model's window.
 * The messages the context was created with are never dropped; history goes a whole turn
 * at a time (the turn's new messages and its answer), never splitting a question from its
 * answer. A turn's tokens are the engine's own count: the turn's prompt and completion
 * tokens less the context it was sent on.
 *
 * - `last_history_tokens`: only the newest turns whose tokens add up to at most N are kept.
 * - `rolling_tokens`: once the context passes `max_window_tokens`, the oldest turns go
 *   until at least `rolling_window_tokens` have gone and it fits again. Dropping in steps
 *   rather than a turn at a time keeps the cached prefix unchanged between steps.
 */
export type TruncationStrategy =
  | { type: 'last_history_tokens'; last_history_tokens: number }
  | { type: 'rolling_tokens'; rolling_tokens: boolean; max_window_tokens: number; rolling_window_tokens: number };

/** One turn of a session's history: how many messages it added and their tokens. */
export interface ContextTurn {
  messages: number;
  tokens: number;
}

/** Skylark's defaults where Ark leaves a field out: Ark's documented example, and a quarter window per roll. */
export const defaultLastHistoryTokens = 4096;
export const defaultRollingShare = 4;

/** How many of the oldest turns to drop so the history fits `strategy` (0 with none). */
export function turnsToDrop(turns: readonly ContextTurn[], initialTokens: number, strategy: TruncationStrategy | null): number {
  if (strategy === null || turns.length === 0) return 0;
  if (strategy.type === 'last_history_tokens') {
    let kept = 0;
    let sum = 0;
    for (let i = turns.length - 1; i >= 0; i--) {
      sum += turns[i]!.tokens;
      if (sum > strategy.last_history_tokens) break;
      kept++;
    }
    return turns.length - kept;
  }
  if (!strategy.rolling_tokens) return 0;
  let total = initialTokens + turns.reduce((sum, turn) => sum + turn.tokens, 0);
  if (total <= strategy.max_window_tokens) return 0;
  let dropped = 0;
  let droppedTokens = 0;
  while (dropped < turns.length && (droppedTokens < strategy.rolling_window_tokens || total > strategy.max_window_tokens)) {
    droppedTokens += turns[dropped]!.tokens;
    total -= turns[dropped]!.tokens;
    dropped++;
  }
  return dropped;
}
