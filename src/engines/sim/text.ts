/**
 * What the simulated engine makes of text: a prompt becomes a prefix chain (one segment
 * per message, so a conversation's earlier turns hit the prefix cache), and an answer is
 * filler of two-letter words, one estimated token each (core/tokens.ts counts ≈ 3 bytes a
 * token), so that a later turn carrying the answer estimates it at the tokens generated.
 */
import { createHash } from 'node:crypto';
import { estimateTokens } from '../../core/tokens.js';
import type { ChatMessage } from '../engine.js';
import type { SimPrefixSegment } from './sequence.js';

/** Template tokens around each message (role markers, separators). */
const perMessageTokens = 4;

const words = [' an', ' as', ' at', ' be', ' by', ' do', ' go', ' he', ' if', ' in', ' is', ' it', ' me', ' my', ' no', ' of', ' on', ' or', ' so', ' to', ' up', ' us', ' we'];

function link(previous: string, role: string, content: string): string {
  return createHash('sha256').update(previous).update('\u0000').update(role).update('\u0000').update(content).digest('base64url').slice(0, 22);
}

export function chatPrefix(messages: readonly ChatMessage[]): SimPrefixSegment[] {
  const segments: SimPrefixSegment[] = [];
  let hash = 'chat';
  for (const message of messages) {
    const text = message.content + (message.toolCalls ?? []).map((call) => call.name + call.arguments).join('');
    hash = link(hash, message.role, text);
    segments.push({ hash, tokens: estimateTokens(text) + perMessageTokens });
  }
  return segments;
}

export function completionPrefix(prompt: string): SimPrefixSegment[] {
  return [{ hash: link('completion', 'prompt', prompt), tokens: Math.max(1, estimateTokens(prompt)) }];
}

/** The hash a later chat turn gives this answer once it is sent back as an assistant message. */
export function answerHash(prefix: readonly SimPrefixSegment[], answer: string): string {
  return link(prefix.at(-1)?.hash ?? 'chat', 'assistant', answer);
}

/** Filler tokens [from, to) of the answer seeded by `seed`; deterministic. */
export function fillerText(seed: number, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += words[(seed + i * 7 + ((i * i) >> 3)) % words.length];
  return text;
}

/** A small number from a hash, to vary the filler between prompts. */
export function seedOf(hash: string): number {
  let seed = 0;
  for (let i = 0; i < hash.length; i++) seed = (seed * 31 + hash.charCodeAt(i)) >>> 0;
  return seed % 9973;
}
