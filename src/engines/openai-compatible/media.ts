/**
 * Images, speech and transcription against an OpenAI-compatible upstream: request bodies
 * out, answers back in Skylark's terms. The engine (engine.ts) owns the connection, the
 * tracking and the error mapping; this file only knows the wire shapes.
 */
import { FormData } from 'undici';
import type { GeneratedImage, ImageRequest, ImageResult, SpeechRequest, TranscriptionRequest, TranscriptionResult } from '../engine.js';
import { badResponse } from './upstream-errors.js';

export function imagesBody(request: ImageRequest): Record<string, unknown> {
  return {
    model: request.model,
    prompt: request.prompt,
    n: request.n,
    ...(request.size === undefined ? {} : { size: request.size }),
    ...(request.quality === undefined ? {} : { quality: request.quality }),
    ...(request.style === undefined ? {} : { style: request.style }),
    ...(request.responseFormat === undefined ? {} : { response_format: request.responseFormat }),
    ...(request.user === undefined ? {} : { user: request.user }),
  };
}

export function parseImages(text: string): ImageResult {
  const data = (parseJson(text, 'images') as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length === 0) throw badResponse('The upstream images response has no data.');
  const images = data.map((item: unknown): GeneratedImage => {
    const record = (item ?? {}) as Record<string, unknown>;
    const image: GeneratedImage = {};
    if (typeof record.b64_json === 'string') image.b64Json = record.b64_json;
    if (typeof record.url === 'string') image.url = record.url;
    if (typeof record.revised_prompt === 'string') image.revisedPrompt = record.revised_prompt;
    if (image.b64Json === undefined && image.url === undefined) throw badResponse('An upstream image has neither b64_json nor url.');
    return image;
  });
  return { images };
}

export function speechBody(request: SpeechRequest): Record<string, unknown> {
  return {
    model: request.model,
    input: request.input,
    voice: request.voice,
    response_format: request.format,
    ...(request.speed === undefined ? {} : { speed: request.speed }),
    ...(request.instructions === undefined ? {} : { instructions: request.instructions }),
  };
}

/** The content type OpenAI answers each format with, for upstreams that send none. */
export const speechContentTypes: Record<SpeechRequest['format'], string> = {
  mp3: 'audio/mpeg',
  opus: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

export function transcriptionForm(request: TranscriptionRequest): FormData {
  const form = new FormData();
  const type = request.mimeType ?? 'application/octet-stream';
  // Multipart uploads are Buffers, whose memory is a plain ArrayBuffer.
  form.append('file', new Blob([request.audio as Uint8Array<ArrayBuffer>], { type }), request.filename);
  form.append('model', request.model);
  form.append('response_format', request.format);
  if (request.language !== undefined) form.append('language', request.language);
  if (request.prompt !== undefined) form.append('prompt', request.prompt);
  if (request.temperature !== undefined) form.append('temperature', String(request.temperature));
  return form;
}

/**
 * `text` answers plain text; `json` and `verbose_json` a JSON object. The duration comes
 * from verbose_json's `duration`, or from a json answer's `usage: {type: 'duration', seconds}`.
 */
export function parseTranscription(text: string, format: TranscriptionRequest['format']): TranscriptionResult {
  if (format === 'text') return { text: text.replace(/\n$/, '') };
  const body = parseJson(text, 'transcription') as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object' || typeof body.text !== 'string') {
    throw badResponse('The upstream transcription response has no text.');
  }
  const result: TranscriptionResult = { text: body.text };
  if (typeof body.language === 'string') result.language = body.language;
  const usage = body.usage as { type?: unknown; seconds?: unknown } | undefined;
  const seconds = typeof body.duration === 'number' ? body.duration : usage?.type === 'duration' ? usage.seconds : undefined;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) result.durationSeconds = seconds;
  if (Array.isArray(body.segments)) result.segments = body.segments as Record<string, unknown>[];
  return result;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badResponse(`The upstream ${what} response is not valid JSON.`, error);
  }
}
