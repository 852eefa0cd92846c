import { describe, expect, it } from 'vitest';
import { turnsToDrop, type ContextTurn } from './truncation.js';

const turns = (...tokens: number[]): ContextTurn[] => tokens.map((t) => ({ messages: 2, tokens: t }));

describe('turnsToDrop', () => {
  it('keeps everything without a strategy', () => {
    expect(turnsToDrop(turns(100, 100), 50, null)).toBe(0);
  });

  it('last_history_tokens keeps only the newest whole turns that fit', () => {
    const strategy = { type: 'last_history_tokens', last_history_tokens: 250 } as const;
    expect(turnsToDrop(turns(100, 100), 1000, strategy)).toBe(0);
    expect(turnsToDrop(turns(100, 100, 100), 1000, strategy)).toBe(1);
    expect(turnsToDrop(turns(100, 100, 60), 1000, strategy)).toBe(1);
    // A newest turn larger than the budget is not kept in part.
    expect(turnsToDrop(turns(100, 300), 0, strategy)).toBe(2);
    expect(turnsToDrop([], 0, strategy)).toBe(0);
  });

  it('rolling_tokens drops nothing until the window is passed, then at least a roll', () => {
    const strategy = { type: 'rolling_tokens', rolling_tokens: true, max_window_tokens: 1000, rolling_window_tokens: 250 } as const;
    expect(turnsToDrop(turns(200, 200, 200), 400, strategy)).toBe(0); // 1000: fits
    expect(turnsToDrop(turns(100, 100, 100, 100, 100), 600, strategy)).toBe(3); // 1100 → 800, 300 dropped ≥ 250
    // 1100 → 1000 fits after the first, but a roll is at least 250 tokens: the second goes too.
    expect(turnsToDrop(turns(100, 900), 100, strategy)).toBe(2);
  });

  it('rolling_tokens goes on past a roll until the context fits, and never drops the initial messages', () => {
    const strategy = { type: 'rolling_tokens', rolling_tokens: true, max_window_tokens: 1000, rolling_window_tokens: 100 } as const;
    expect(turnsToDrop(turns(100, 100, 600), 500, strategy)).toBe(3); // 1300 → 1200 → 1100 → 500
    expect(turnsToDrop(turns(100, 100, 600), 250, strategy)).toBe(1); // 1050 → 950
    expect(turnsToDrop(turns(50), 2000, strategy)).toBe(1);
    const off = { ...strategy, rolling_tokens: false };
    expect(turnsToDrop(turns(5000), 0, off)).toBe(0);
  });
});
