/**
 * Anthropic's Messages API: `POST /v1/messages` (JSON or named SSE events) and
 * `POST /v1/messages/count_tokens`. Registered in a scope of their own so that every error
 * on them — authentication, a bad body, a refusal — has Anthropic's shape; the OpenAI
 * routes keep OpenAI's. `?beta=true` (what the SDK's beta client adds) is accepted and ignored.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  anthropicCountTokensRequestSchema,
  anthropicMessagesRequestSchema,
  type AnthropicStreamEvent,
} from '../../contracts/anthropic-messages.js';
import { anthropicClientHeaders } from '../../gateway/anthropic-mapping.js';
import { countAnthropicTokens, createAnthropicMessage } from '../../gateway/anthropic-messages.js';
import type { QueueNotice } from '../../gateway/queue-notice.js';
import type { GatewayDeps } from '../../gateway/request-context.js';
import { anthropicErrorBody, sendAnthropicError } from '../anthropic-error-reply.js';
import { logIfInternal, toApiError } from '../error-reply.js';
import type { InFlightRequests } from '../in-flight.js';
import type { HttpObserver } from '../observe-http.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';
import { sendEventStream, type EventFormat } from '../sse.js';
import { generationHandler } from './openai-routes.js';

/** A stream that waits this long with nothing to say sends a ping, so proxies and clients keep it open. */
const heartbeatMs = 10_000;

const ping = 'event: ping\ndata: {"type":"ping"}\n\n';

export function anthropicFormat(requestId: string): EventFormat {
  return {
    event: (event) => `event: ${(event as AnthropicStreamEvent).type}\ndata: ${JSON.stringify(event)}\n\n`,
    // Anthropic's clients skip `ping` events (and SSE comments); the comment keeps Skylark's place-in-line form.
    queue: (notice) => `${notice.toComment()}${ping}`,
    done: '',
    error: (error) => `event: error\ndata: ${JSON.stringify(anthropicErrorBody(error, requestId))}\n\n`,
  };
}

export function registerAnthropicRoutes(
  app: FastifyInstance,
  deps: GatewayDeps,
  inFlight: InFlightRequests,
  observer: HttpObserver,
): void {
  app.register(async (scope) => {
    scope.setErrorHandler((error, request, reply) => {
      const apiError = toApiError(error);
      logIfInternal(request, apiError, error);
      // The same counts as the OpenAI routes' handler: refusals here are /metrics rejections too.
      observer.onError(request, apiError);
      return sendAnthropicError(reply, apiError, reply.getHeader('x-request-id') as string | undefined);
    });

    const tags = ['Anthropic Messages'];
    // Errors on these routes have Anthropic's shape ({type: "error", error: {type, message}}), not OpenAI's.
    const description = "Anthropic's API: send the key as `x-api-key` or `Authorization: Bearer`. Errors have Anthropic's shape.";
    scope.post(
      '/v1/messages',
      documented({ summary: "Create a message (Anthropic's Messages API); `stream: true` answers with named server-sent events", description, tags, body: anthropicMessagesRequestSchema, errors: [402, 404, 429] }),
      generationHandler(
        deps,
        inFlight,
        (gateway, body, context, request) => createAnthropicMessage(gateway, body, context, anthropicClientHeaders(request.headers)),
        {
          format: (context) => anthropicFormat(context.requestId),
          headers: (context) => ({ 'request-id': context.requestId }),
          stream: withHeartbeat,
        },
      ),
    );

    scope.post(
      '/v1/messages/count_tokens',
      documented({ summary: 'Count the input tokens a message request would use', description, tags, body: anthropicCountTokensRequestSchema, errors: [404] }),
      async (request: FastifyRequest, reply: FastifyReply) => {
        const context = inFlight.begin(reply, principalOf(request));
        try {
          return await countAnthropicTokens(deps, request.body, context, anthropicClientHeaders(request.headers));
        } finally {
          context.end();
        }
      },
    );
  });
}

/**
 * Passes events through, adding a ping whenever nothing has come for heartbeatMs (a wait
 * whose place in line does not change, a model thinking silently, sends nothing otherwise).
 */
async function* withHeartbeat(
  events: AsyncIterable<AnthropicStreamEvent | QueueNotice>,
): AsyncGenerator<AnthropicStreamEvent | QueueNotice> {
  const iterator = events[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<AnthropicStreamEvent | QueueNotice>> | undefined;
  try {
    for (;;) {
      pending ??= iterator.next();
      let timer: NodeJS.Timeout | undefined;
      const beat = new Promise<'beat'>((resolve) => (timer = setTimeout(resolve, heartbeatMs, 'beat')));
      const next = await Promise.race([pending, beat]).finally(() => clearTimeout(timer));
      if (next === 'beat') {
        yield { type: 'ping' };
        continue;
      }
      pending = undefined;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
