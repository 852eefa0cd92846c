import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SkylarkError, toSkylarkError, type ErrorCode } from '../core/errors.js';
import type { ErrorBody } from '../contracts/responses.js';

/** The one place an error becomes OpenAI's error JSON. */
export function errorBody(error: SkylarkError): ErrorBody {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

export function retryAfterSeconds(error: SkylarkError): string | undefined {
  if (error.retryAfterMs === undefined) return undefined;
  return String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
}

export function sendError(reply: FastifyReply, error: SkylarkError): FastifyReply {
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter) reply.header('retry-after', retryAfter);
  return reply.code(error.status).type('application/json').send(errorBody(error));
}

/** Fastify's own failures (body parser, limits) mapped onto the closed error table. */
const fastifyCodes: Record<string, { code: ErrorCode; message: (error: FastifyError) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'request_too_large', message: () => 'The request body is larger than this server accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: () => "Send the request body as JSON with 'Content-Type: application/json'.",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_json', message: () => 'The request body is empty; send a JSON object.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request', message: () => 'Content-Length does not match the body.' },
};

export function toApiError(error: unknown): SkylarkError {
  if (error instanceof SkylarkError) return error;
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code ? fastifyCodes[fastifyError.code] : undefined;
  if (known) return new SkylarkError(known.code, known.message(fastifyError as FastifyError));
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new SkylarkError(
      'invalid_json',
      `We could not parse the JSON body of your request: ${(error as Error).message}`,
    );
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode === 413) {
    return new SkylarkError('request_too_large', 'The request body is larger than this server accepts.');
  }
  return toSkylarkError(error);
}

export function logIfInternal(request: FastifyRequest, error: SkylarkError, original: unknown): void {
  if (error.status >= 500) request.log.error({ err: original, code: error.code }, 'request failed');
}
