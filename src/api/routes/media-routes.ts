/**
 * Images, speech and transcription (OpenAI's routes). Each runs as a tracked request, like
 * the generation routes: a client that leaves aborts it, shutdown waits for it.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { imageRequestSchema, speechRequestSchema, transcriptionFieldsSchema } from '../../contracts/media-request.js';
import { SkylarkError } from '../../core/errors.js';
import { createImages } from '../../gateway/images.js';
import type { GatewayDeps, RequestContext } from '../../gateway/request-context.js';
import { createSpeech } from '../../gateway/speech.js';
import { createTranscription, type AudioUpload } from '../../gateway/transcription.js';
import type { InFlightRequests } from '../in-flight.js';
import { documented } from '../openapi.js';
import { principalOf } from '../principal.js';
import { sendBytes } from '../send-bytes.js';

/** OpenAI's own limit on an uploaded audio file. */
const maxAudioBytes = 25 * 1024 * 1024;

export function registerMediaRoutes(app: FastifyInstance, deps: GatewayDeps, inFlight: InFlightRequests): void {
  const tracked =
    (handle: (request: FastifyRequest, reply: FastifyReply, context: RequestContext) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const context = inFlight.begin(reply, principalOf(request));
      const headers = () => ({ ...context.responseHeaders, 'x-request-id': context.requestId });
      try {
        const wait = request.headers['x-skylark-max-wait-ms'];
        if (wait !== undefined) {
          if (!/^\d+$/.test(String(wait))) {
            throw new SkylarkError('invalid_request', 'x-skylark-max-wait-ms must be a whole number of milliseconds.', { param: 'x-skylark-max-wait-ms' });
          }
          context.maxWaitMs = Number(wait);
        }
        const clientRequestId = request.headers['x-client-request-id'];
        if (typeof clientRequestId === 'string' && /^[\w.:-]{1,128}$/.test(clientRequestId)) context.clientRequestId = clientRequestId;
        const body = await handle(request, reply, context);
        if (reply.sent) return reply;
        return reply.headers(headers()).send(body);
      } catch (error) {
        if (!reply.sent) reply.headers(headers());
        throw error;
      } finally {
        context.end();
      }
    };

  const tags = ['Media'];
  const billed = [402, 404, 429];
  app.post(
    '/v1/images/generations',
    documented({ summary: 'Generate images from a prompt (billed per image unit)', tags, body: imageRequestSchema, errors: billed }),
    tracked((request, _reply, context) => createImages(deps, request.body, context)),
  );

  app.post(
    '/v1/audio/speech',
    documented({ summary: 'Read text aloud; answers with the audio bytes (billed per 1M input characters)', tags, body: speechRequestSchema, errors: billed }),
    tracked(async (request, reply, context) => {
      const answer = await createSpeech(deps, request.body, context);
      await sendBytes(reply, answer.contentType, answer.audio, { ...context.responseHeaders, 'x-request-id': context.requestId });
    }),
  );

  // Multipart is parsed in this scope only: every other route takes JSON.
  app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: maxAudioBytes, files: 1, fields: 16 } });
    scope.post(
      '/v1/audio/transcriptions',
      documented({
        summary: 'Transcribe an audio file (multipart/form-data; billed per audio minute, by the second)',
        tags,
        body: transcriptionFieldsSchema.extend({ file: z.string().meta({ format: 'binary', description: 'The audio, at most 25 MB.' }) }),
        consumes: 'multipart/form-data',
        errors: [...billed, 413, 415],
      }),
      tracked(async (request, reply, context) => {
        const { fields, file } = await readForm(request);
        const answer = await createTranscription(deps, fields, file, context);
        if (answer.format === 'text') {
          reply.type('text/plain; charset=utf-8');
          return `${answer.text}\n`;
        }
        return answer.body;
      }),
    );
  });
}

async function readForm(request: FastifyRequest): Promise<{ fields: Record<string, unknown>; file: AudioUpload | undefined }> {
  if (!request.isMultipart()) {
    throw new SkylarkError('unsupported_media_type', 'Send the audio as multipart/form-data, with the file in the field `file`.');
  }
  const fields: Record<string, unknown> = {};
  let file: AudioUpload | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname === 'file') file = { bytes, filename: part.filename || 'audio', ...(part.mimetype ? { mimeType: part.mimetype } : {}) };
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      throw new SkylarkError('request_too_large', `The audio file is larger than ${maxAudioBytes / 1024 / 1024} MB.`, { param: 'file' });
    }
    if (typeof code === 'string' && code.startsWith('FST_')) {
      throw new SkylarkError('invalid_request', `The multipart form could not be read: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
  return { fields, file };
}
