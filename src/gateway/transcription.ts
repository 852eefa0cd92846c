/** POST /v1/audio/transcriptions (multipart), on engines whose models declare `transcription`. */
import { SkylarkError } from '../core/errors.js';
import { wavDurationMs } from '../core/wav.js';
import type { MediaUnits } from '../core/usage.js';
import { parseRequest } from '../contracts/parse.js';
import { transcriptionFieldsSchema } from '../contracts/media-request.js';
import type { TranscriptionJson, TranscriptionVerboseJson } from '../contracts/media-responses.js';
import type { TranscriptionRequest, TranscriptionResult } from '../engines/engine.js';
import { runMedia } from './scheduled-call.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

export interface AudioUpload {
  bytes: Uint8Array;
  filename: string;
  mimeType?: string;
}

export type TranscriptionAnswer =
  | { format: 'text'; text: string }
  | { format: 'json'; body: TranscriptionJson }
  | { format: 'verbose_json'; body: TranscriptionVerboseJson };

/**
 * For a file whose length cannot be read from its header (anything but WAV) and an engine
 * that does not report it: its size read at 16 kbit/s, a low speech bitrate, so the
 * estimate is rather long than short. Only such requests are billed by this estimate.
 */
const fallbackBytesPerSecond = 2000;

function secondsOf(ms: number): number {
  return Math.ceil(Math.round(ms) / 1000);
}

export async function createTranscription(
  deps: GatewayDeps,
  fields: Record<string, unknown>,
  file: AudioUpload | undefined,
  context: RequestContext,
): Promise<TranscriptionAnswer> {
  const request = parseRequest(transcriptionFieldsSchema, fields);
  if (file === undefined || file.bytes.length === 0) {
    throw new SkylarkError('invalid_request', 'Missing required parameter: \'file\' (an audio file, sent as multipart/form-data).', { param: 'file' });
  }
  const measuredMs = wavDurationMs(file.bytes);
  const estimated = measuredMs === undefined ? Math.ceil(file.bytes.length / fallbackBytesPerSecond) : secondsOf(measuredMs);
  const billed = (result: TranscriptionResult | undefined): MediaUnits => ({
    kind: 'audio_second',
    units: result?.durationSeconds === undefined ? estimated : secondsOf(result.durationSeconds * 1000),
  });
  const result = await runMedia<TranscriptionResult>(deps, context, {
    model: request.model,
    capability: 'transcription',
    endpoint: 'audio.transcriptions',
    promptText: request.prompt ?? '',
    maxUnits: { kind: 'audio_second', units: estimated },
    run: async function* (engine, model) {
      const call: TranscriptionRequest = {
        model: model.engineModel,
        audio: file.bytes,
        filename: file.filename,
        format: request.response_format,
        signal: context.signal,
        requestId: context.requestId,
        ...(file.mimeType === undefined ? {} : { mimeType: file.mimeType }),
        ...(request.language === undefined ? {} : { language: request.language }),
        ...(request.prompt === undefined ? {} : { prompt: request.prompt }),
        ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      };
      yield await engine.transcribe!(call);
    },
    units: ([result]) => billed(result),
  });
  const seconds = billed(result).units;
  const usage = { type: 'duration' as const, seconds };
  switch (request.response_format) {
    case 'text':
      return { format: 'text', text: result.text };
    case 'json':
      return { format: 'json', body: { text: result.text, usage } };
    case 'verbose_json':
      return {
        format: 'verbose_json',
        body: {
          task: 'transcribe',
          language: result.language ?? request.language ?? 'unknown',
          duration: result.durationSeconds ?? seconds,
          text: result.text,
          ...(result.segments === undefined ? {} : { segments: result.segments }),
          usage,
        },
      };
  }
}
