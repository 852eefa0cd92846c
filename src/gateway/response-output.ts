/**
 * An engine's parts → the Responses API's output items and the stream events that build
 * them, in OpenAI's order: each item is added, filled by deltas and done before the next
 * one is added (reasoning, then the message, then each function call, as they come). The
 * JSON answer uses the same builder and keeps only the items.
 */
import { randomString } from '../core/ids.js';
import type {
  FunctionCallItem,
  ItemStatus,
  OutputItem,
  OutputMessageItem,
  OutputTextPart,
  ReasoningItem,
  UnnumberedEvent,
} from '../contracts/response-objects.js';
import type { GenerationPart } from '../engines/engine.js';

type ContentPart = Extract<GenerationPart, { type: 'text-delta' | 'reasoning-delta' | 'tool-call-delta' }>;

type Open =
  | { kind: 'message'; index: number; item: OutputMessageItem }
  | { kind: 'reasoning'; index: number; item: ReasoningItem }
  | { kind: 'call'; index: number; item: FunctionCallItem; engineIndex: number };

export const itemId = (prefix: 'msg' | 'fc' | 'rs' | 'fco'): string => `${prefix}_${randomString(32)}`;

export class ResponseOutput {
  readonly items: OutputItem[] = [];
  private open: Open | undefined;

  /** The events one part produces (none is held back). */
  apply(part: ContentPart): UnnumberedEvent[] {
    const events: UnnumberedEvent[] = [];
    switch (part.type) {
      case 'text-delta': {
        const open = this.open?.kind === 'message' ? this.open : this.start(events, 'message');
        if (open.kind !== 'message') break;
        open.item.content[0]!.text += part.text;
        events.push({ type: 'response.output_text.delta', item_id: open.item.id, output_index: open.index, content_index: 0, delta: part.text, logprobs: [] });
        break;
      }
      case 'reasoning-delta': {
        const open = this.open?.kind === 'reasoning' ? this.open : this.start(events, 'reasoning');
        if (open.kind !== 'reasoning') break;
        open.item.content[0]!.text += part.text;
        events.push({ type: 'response.reasoning_text.delta', item_id: open.item.id, output_index: open.index, content_index: 0, delta: part.text });
        break;
      }
      case 'tool-call-delta': {
        let open = this.open;
        if (open?.kind !== 'call' || open.engineIndex !== part.index) open = this.start(events, 'call', part);
        if (open.kind !== 'call') break;
        if (part.argumentsDelta === '') break;
        open.item.arguments += part.argumentsDelta;
        events.push({ type: 'response.function_call_arguments.delta', item_id: open.item.id, output_index: open.index, delta: part.argumentsDelta });
        break;
      }
    }
    return events;
  }

  /** Closes the item being built; `incomplete` when the answer was cut short. */
  close(status: ItemStatus): UnnumberedEvent[] {
    const events: UnnumberedEvent[] = [];
    this.finishOpen(events, status);
    return events;
  }

  private start(events: UnnumberedEvent[], kind: Open['kind'], call?: Extract<ContentPart, { type: 'tool-call-delta' }>): Open {
    this.finishOpen(events, 'completed');
    const index = this.items.length;
    let open: Open;
    if (kind === 'message') {
      open = { kind, index, item: { id: itemId('msg'), type: 'message', role: 'assistant', status: 'in_progress', content: [] } };
    } else if (kind === 'reasoning') {
      open = { kind, index, item: { id: itemId('rs'), type: 'reasoning', status: 'in_progress', summary: [], content: [] } };
    } else {
      const item: FunctionCallItem = {
        id: itemId('fc'),
        type: 'function_call',
        status: 'in_progress',
        call_id: call?.id || `call_${randomString(24)}`,
        name: call?.name ?? '',
        arguments: '',
      };
      open = { kind, index, item, engineIndex: call?.index ?? 0 };
    }
    this.items.push(open.item);
    this.open = open;
    events.push({ type: 'response.output_item.added', output_index: index, item: structuredClone(open.item) });
    if (open.kind === 'message') {
      const part: OutputTextPart = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      open.item.content.push(part);
      events.push({ type: 'response.content_part.added', item_id: open.item.id, output_index: index, content_index: 0, part: { ...part } });
    } else if (open.kind === 'reasoning') {
      open.item.content.push({ type: 'reasoning_text', text: '' });
      events.push({ type: 'response.content_part.added', item_id: open.item.id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text: '' } });
    }
    return open;
  }

  private finishOpen(events: UnnumberedEvent[], status: ItemStatus): void {
    const open = this.open;
    if (open === undefined) return;
    this.open = undefined;
    const { index } = open;
    switch (open.kind) {
      case 'message': {
        const part = open.item.content[0]!;
        events.push({ type: 'response.output_text.done', item_id: open.item.id, output_index: index, content_index: 0, text: part.text, logprobs: [] });
        events.push({ type: 'response.content_part.done', item_id: open.item.id, output_index: index, content_index: 0, part: { ...part } });
        break;
      }
      case 'reasoning': {
        const part = open.item.content[0]!;
        events.push({ type: 'response.reasoning_text.done', item_id: open.item.id, output_index: index, content_index: 0, text: part.text });
        events.push({ type: 'response.content_part.done', item_id: open.item.id, output_index: index, content_index: 0, part: { ...part } });
        break;
      }
      case 'call':
        events.push({ type: 'response.function_call_arguments.done', item_id: open.item.id, output_index: index, name: open.item.name, arguments: open.item.arguments });
        break;
    }
    open.item.status = status;
    events.push({ type: 'response.output_item.done', output_index: index, item: structuredClone(open.item) });
  }
}
