import { describe, expect, it } from 'vitest';
import { SkylarkError } from '../core/errors.js';
import type { Usage } from '../core/usage.js';
import type { ResponseObject, ResponseStreamEvent } from '../contracts/response-objects.js';
import type { GenerationPart } from '../engines/engine.js';
import { expectValidEvents } from '../../test/support/response-events.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import { responseEvents, type ResponseRun } from './response-events.js';
import { ResponseOutput } from './response-output.js';

const usage: Usage = { promptTokens: 10, completionTokens: 3, cachedPromptTokens: 2 };

function run(): ResponseRun {
  const draft = {
    id: 'resp_test', object: 'response', created_at: 1, status: 'in_progress', completed_at: null, error: null, incomplete_details: null,
    instructions: null, max_output_tokens: null, model: 'm', output: [], parallel_tool_calls: true, previous_response_id: null,
    reasoning: null, store: false, temperature: null, top_p: null, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [],
    truncation: 'disabled', safety_identifier: null, metadata: {},
  } satisfies ResponseObject;
  const output = new ResponseOutput();
  return {
    draft,
    output,
    complete: async (finishReason, used) => ({
      ...draft,
      status: finishReason === 'length' ? 'incomplete' : 'completed',
      completed_at: 2,
      incomplete_details: finishReason === 'length' ? { reason: 'max_output_tokens' } : null,
      output: structuredClone(output.items),
      usage: { input_tokens: used.promptTokens, input_tokens_details: { cached_tokens: used.cachedPromptTokens, cache_write_tokens: 0 }, output_tokens: used.completionTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 13 },
    }),
  };
}

async function events(parts: StreamPart[]): Promise<ResponseStreamEvent[]> {
  const out: ResponseStreamEvent[] = [];
  async function* source() {
    yield* parts;
  }
  for await (const event of responseEvents(source(), run())) if (!(event instanceof QueueNotice)) out.push(event);
  return out;
}

describe('responseEvents', () => {
  it('closes the message before a tool call starts, and each call before the next', async () => {
    const parts: GenerationPart[] = [
      { type: 'text-delta', text: 'Let me look.' },
      { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'one', argumentsDelta: '{"a":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
      { type: 'tool-call-delta', index: 1, id: 'call_b', name: 'two', argumentsDelta: '{}' },
      { type: 'finish', finishReason: 'tool_calls', usage },
    ];
    const seen = await events([new QueueNotice(1, 500), ...parts]);
    expectValidEvents(seen as never);
    expect(seen.map((event) => event.type)).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);
    const completed = seen.at(-1)!;
    if (completed.type !== 'response.completed') throw new Error('not completed');
    expect(completed.response.output.map((item) => item.type === 'function_call' ? `${item.call_id}:${item.arguments}` : item.type)).toEqual(['message', 'call_a:{"a":1}', 'call_b:{}']);
  });

  it('marks a cut-short answer incomplete', async () => {
    const seen = await events([{ type: 'text-delta', text: 'abc' }, { type: 'finish', finishReason: 'length', usage }]);
    expectValidEvents(seen as never);
    const last = seen.at(-1)!;
    expect(last.type).toBe('response.incomplete');
    const done = seen.find((event) => event.type === 'response.output_item.done');
    expect(done?.type === 'response.output_item.done' && done.item.status).toBe('incomplete');
  });

  it("ends a failure in response.failed, a rate limit worded so Codex can read the wait", async () => {
    const error = new SkylarkError('server_overloaded', 'Model m is at capacity.', { retryAfterMs: 1500 });
    const seen = await events([{ type: 'text-delta', text: 'a' }, { type: 'error', error, usage }]);
    expectValidEvents(seen as never);
    const last = seen.at(-1)!;
    if (last.type !== 'response.failed') throw new Error(`ended with ${last.type}`);
    expect(last.response.error).toEqual({ code: 'rate_limit_exceeded', message: 'Model m is at capacity. Please try again in 1.500s.' });
    expect(last.response.output).toHaveLength(1);
  });
});
