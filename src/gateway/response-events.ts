/**
 * A generation as the Responses API streams it: `response.created`, `response.in_progress`
 * once a replica works on it, the output items' events (response-output.ts), then
 * `response.completed` (or `response.incomplete`) carrying usage — after the usage row has
 * committed and the response is stored. A failure once the stream is open becomes
 * `response.failed`, its error in OpenAI's codes. Every event is numbered from 0.
 */
import { SkylarkError, toSkylarkError } from '../core/errors.js';
import type { ResponseErrorObject, ResponseObject, ResponseStreamEvent, UnnumberedEvent } from '../contracts/response-objects.js';
import type { FinishReason } from '../engines/engine.js';
import type { Usage } from '../core/usage.js';
import { stoppedEarly } from './generation.js';
import { QueueNotice, type StreamPart } from './queue-notice.js';
import type { ResponseOutput } from './response-output.js';

export interface ResponseRun {
  /** The response as it stands: model, settings; output and status filled in as it goes. */
  draft: ResponseObject;
  output: ResponseOutput;
  /** Finishes the response (status, usage) and stores it when asked to; returns it as sent. */
  complete(finishReason: FinishReason, usage: Usage): Promise<ResponseObject>;
}

export async function* responseEvents(parts: AsyncIterable<StreamPart>, run: ResponseRun): AsyncGenerator<ResponseStreamEvent | QueueNotice> {
  let sequence = 0;
  const numbered = (event: UnnumberedEvent) => ({ ...event, sequence_number: sequence++ }) as ResponseStreamEvent;
  yield numbered({ type: 'response.created', response: structuredClone(run.draft) });
  let working = false;
  try {
    for await (const part of parts) {
      if (part instanceof QueueNotice) {
        yield part;
        continue;
      }
      if (!working) {
        working = true;
        yield numbered({ type: 'response.in_progress', response: structuredClone(run.draft) });
      }
      switch (part.type) {
        case 'finish': {
          if (part.finishReason === 'abort') throw stoppedEarly();
          for (const event of run.output.close(part.finishReason === 'length' || part.finishReason === 'content_filter' ? 'incomplete' : 'completed')) yield numbered(event);
          const response = await run.complete(part.finishReason, part.usage);
          yield numbered({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response });
          return;
        }
        case 'error':
          throw part.error;
        default:
          for (const event of run.output.apply(part)) yield numbered(event);
      }
    }
    throw new SkylarkError('internal_error', 'The engine ended without a result.');
  } catch (thrown) {
    // One terminal event, as OpenAI ends a failed response: the SDK's stream helper and
    // Codex both treat a separate `error` event as the end of the stream.
    yield numbered({ type: 'response.failed', response: failedResponse(run, toSkylarkError(thrown)) });
  }
}

export function failedResponse(run: ResponseRun, error: SkylarkError): ResponseObject {
  return { ...structuredClone(run.draft), status: 'failed', output: structuredClone(run.output.items), error: toResponseError(error) };
}

/** OpenAI's ResponseErrorCode is a closed list: rate limits and overload keep their meaning, the rest are server errors. */
function toResponseError(error: SkylarkError): ResponseErrorObject {
  if (error.code !== 'rate_limit_exceeded' && error.code !== 'server_overloaded') return { code: 'server_error', message: error.message };
  // Codex reads the wait from a rate limit's message, in OpenAI's words.
  const wait = error.retryAfterMs === undefined ? '' : ` Please try again in ${(error.retryAfterMs / 1000).toFixed(3)}s.`;
  return { code: 'rate_limit_exceeded', message: `${error.message}${wait}` };
}

