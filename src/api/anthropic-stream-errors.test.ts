/**
 * A stream refused after it began: Skylark's scheduler can refuse a request while its
 * stream is already open (a replica failed before its first token and no other can start
 * it in time). Anthropic's clients must then read an `error` event of type
 * overloaded_error — the same refusal a request not yet streaming gets as HTTP 529.
 */
import { describe, expect, it } from 'vitest';
import { SkylarkError } from '../core/errors.js';
import { anthropicEvents } from '../gateway/anthropic-stream.js';
import { QueueNotice, type StreamPart } from '../gateway/queue-notice.js';
import { anthropicErrorStatus } from './anthropic-error-reply.js';
import { anthropicFormat } from './routes/anthropic-routes.js';

async function* waitedThenRefused(): AsyncGenerator<StreamPart> {
  yield new QueueNotice(2, 1500);
  throw new SkylarkError('server_overloaded', 'No replica can start this request within 1 ms.', { retryAfterMs: 2000 });
}

describe('an Anthropic stream refused after it started', () => {
  it('pings while waiting, then ends with an overloaded_error event', async () => {
    const format = anthropicFormat('req123');
    let written = '';
    try {
      for await (const event of anthropicEvents(waitedThenRefused(), { id: 'msg_req123', model: 'm', inputTokensEstimate: 1 })) {
        written += event instanceof QueueNotice ? format.queue(event) : format.event(event);
      }
    } catch (error) {
      expect(anthropicErrorStatus(error as SkylarkError)).toBe(529);
      written += format.error(error as SkylarkError);
    }
    expect(written).toBe(
      ': queue position=2 eta_ms=1500\n\nevent: ping\ndata: {"type":"ping"}\n\n' +
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"No replica can start this request within 1 ms."},"request_id":"req123"}\n\n',
    );
  });
});
