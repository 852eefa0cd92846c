/** Checks a Responses API event stream against OpenAI's spec: each event by its own schema, numbered from 0. */
import { expect } from 'vitest';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { expectOpenAI } from './openapi-schemas.js';

/** Each stream event against its own schema in OpenAI's spec. */
const eventSchemas: Record<string, string> = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  'response.reasoning_text.delta': 'ResponseReasoningTextDeltaEvent',
  'response.reasoning_text.done': 'ResponseReasoningTextDoneEvent',
  'response.completed': 'ResponseCompletedEvent',
  'response.incomplete': 'ResponseIncompleteEvent',
  'response.failed': 'ResponseFailedEvent',
  error: 'ResponseErrorEvent',
};

export function expectValidEvents(events: ResponseStreamEvent[]): void {
  events.forEach((event, index) => {
    expect(eventSchemas[event.type], event.type).toBeDefined();
    expectOpenAI(eventSchemas[event.type]!, event);
    expectOpenAI('ResponseStreamEvent', event);
    expect(event.sequence_number).toBe(index);
  });
}
