/** POST /v1/audio/speech, on engines whose models declare `speech`: audio bytes, as they come. */
import { SkylarkError } from '../core/errors.js';
import { parseRequest } from '../contracts/parse.js';
import { speechRequestSchema } from '../contracts/media-request.js';
import type { SpeechRequest } from '../engines/engine.js';
import { startMedia } from './scheduled-call.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

export interface SpeechAnswer {
  contentType: string;
  /** The audio; it ends only once the request's usage row has committed. */
  audio: AsyncIterable<Uint8Array>;
}

interface AudioPiece {
  contentType: string;
  bytes: Uint8Array;
}

/** Speech is billed per input character (Unicode code points), per 1M in the catalog. */
export function speechCharacters(input: string): number {
  return [...input].length;
}

export async function createSpeech(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<SpeechAnswer> {
  const request = parseRequest(speechRequestSchema, body);
  const units = { kind: 'speech_char' as const, units: speechCharacters(request.input) };
  const pieces = await startMedia<AudioPiece>(deps, context, {
    model: request.model,
    capability: 'speech',
    endpoint: 'audio.speech',
    promptText: request.input,
    maxUnits: units,
    run: async function* (engine, model) {
      const call: SpeechRequest = {
        model: model.engineModel,
        input: request.input,
        voice: request.voice,
        format: request.response_format,
        signal: context.signal,
        requestId: context.requestId,
        ...(request.speed === undefined ? {} : { speed: request.speed }),
        ...(request.instructions === undefined ? {} : { instructions: request.instructions }),
      };
      const answer = await engine.speech!(call);
      for await (const bytes of answer.audio) if (bytes.length > 0) yield { contentType: answer.contentType, bytes };
    },
    // The whole input is charged once audio was made, also when the client left midway:
    // the engine has synthesised it.
    units: () => units,
  });
  // The first piece decides the content type; an engine failing before it is an HTTP error.
  const iterator = pieces[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new SkylarkError('upstream_bad_response', 'The engine returned no audio.');
  return {
    contentType: first.value.contentType,
    audio: (async function* () {
      try {
        yield first.value.bytes;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value.bytes;
      } finally {
        await iterator.return?.();
      }
    })(),
  };
}
