/**
 * Runtime checks of Anthropic's response shapes, field for field as the official SDK's
 * types declare them (`@anthropic-ai/sdk` resources/messages: Message, Usage,
 * RawMessageStreamEvent). TypeScript types vanish at run time; these do not.
 */
import { z } from 'zod';
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';

const usage = z.strictObject({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cache_creation_input_tokens: z.number().int().min(0).nullable(),
  cache_read_input_tokens: z.number().int().min(0).nullable(),
  service_tier: z.enum(['standard', 'priority', 'batch']).nullable().optional(),
});

const textBlock = z.strictObject({ type: z.literal('text'), text: z.string() });
const thinkingBlock = z.strictObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const toolUseBlock = z.strictObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.record(z.string(), z.unknown()) });
const contentBlock = z.discriminatedUnion('type', [textBlock, thinkingBlock, toolUseBlock]);
const stopReason = z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal']);

export const messageSchema = z.strictObject({
  id: z.string().min(1),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string().min(1),
  content: z.array(contentBlock),
  stop_reason: stopReason.nullable(),
  stop_sequence: z.string().nullable(),
  usage,
});

export const streamEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('message_start'), message: messageSchema }),
  z.strictObject({
    type: z.literal('content_block_start'),
    index: z.number().int().min(0),
    content_block: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text'), text: z.literal('') }),
      z.strictObject({ type: z.literal('thinking'), thinking: z.literal(''), signature: z.string() }),
      z.strictObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.strictObject({}) }),
    ]),
  }),
  z.strictObject({
    type: z.literal('content_block_delta'),
    index: z.number().int().min(0),
    delta: z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('text_delta'), text: z.string() }),
      z.strictObject({ type: z.literal('thinking_delta'), thinking: z.string() }),
      z.strictObject({ type: z.literal('input_json_delta'), partial_json: z.string() }),
    ]),
  }),
  z.strictObject({ type: z.literal('content_block_stop'), index: z.number().int().min(0) }),
  z.strictObject({
    type: z.literal('message_delta'),
    delta: z.strictObject({ stop_reason: stopReason, stop_sequence: z.string().nullable() }),
    usage,
  }),
  z.strictObject({ type: z.literal('message_stop') }),
]);

export function expectMessage(value: Message | unknown): void {
  const result = messageSchema.safeParse(value);
  if (!result.success) throw new Error(`not an Anthropic Message: ${result.error.message}\n${JSON.stringify(value)}`);
}

export function expectStreamEvent(value: RawMessageStreamEvent | unknown): void {
  const result = streamEventSchema.safeParse(value);
  if (!result.success) throw new Error(`not an Anthropic stream event: ${result.error.message}\n${JSON.stringify(value)}`);
}

/**
 * The grammar of a message stream: message_start, blocks (start, deltas of the block's
 * own kind, stop — indices counting up from 0), message_delta, message_stop.
 */
export function expectEventOrder(events: readonly RawMessageStreamEvent[]): void {
  const kinds: Record<string, string> = { text: 'text_delta', thinking: 'thinking_delta', tool_use: 'input_json_delta' };
  if (events[0]?.type !== 'message_start') throw new Error(`first event is ${events[0]?.type}`);
  let next = 0;
  let open: { index: number; delta: string } | undefined;
  let i = 1;
  for (; i < events.length; i++) {
    const event = events[i]!;
    if (event.type === 'content_block_start') {
      if (open || event.index !== next) throw new Error(`block ${event.index} starts out of order at event ${i}`);
      open = { index: event.index, delta: kinds[event.content_block.type]! };
      next++;
    } else if (event.type === 'content_block_delta') {
      if (!open || event.index !== open.index || event.delta.type !== open.delta) throw new Error(`delta ${event.delta.type} for block ${event.index} at event ${i}`);
    } else if (event.type === 'content_block_stop') {
      if (!open || event.index !== open.index) throw new Error(`stop for block ${event.index} at event ${i}`);
      open = undefined;
    } else break;
  }
  if (open) throw new Error(`block ${open.index} never stopped`);
  if (events[i]?.type !== 'message_delta' || events[i + 1]?.type !== 'message_stop' || i + 2 !== events.length) {
    throw new Error(`the stream ends with ${events.slice(i).map((e) => e.type).join(', ')}`);
  }
}
