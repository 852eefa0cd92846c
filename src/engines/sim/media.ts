/**
 * The sim engine's media: deterministic simulator output so the image, speech and
 * transcription paths run for real in tests without weights. None of it comes from a
 * model: an image is a gradient coloured by the prompt's hash, speech is a sine tone as
 * long as the text, and a transcript only states how long the audio was.
 */
import { createHash } from 'node:crypto';
import { SkylarkError } from '../../core/errors.js';
import { wavDurationMs, wavFile } from '../../core/wav.js';
import type { ImageRequest, ImageResult, SpeechRequest, SpeechResult, TranscriptionRequest, TranscriptionResult } from '../engine.js';
import { gradientPng } from './png.js';

const defaultSide = 1024;
const maxSide = 4096;
/** Simulated speaking rate: a character lasts this long at speed 1. */
const msPerCharacter = 50;
/** OpenAI's `pcm` is 24 kHz 16-bit mono little-endian; the WAV carries the same samples. */
const pcm = { sampleRate: 24_000, channels: 1, bitsPerSample: 16 } as const;

export function simImages(request: ImageRequest): ImageResult {
  const [width, height] = dimensions(request.size);
  const images = Array.from({ length: request.n }, (_, index) => {
    const b64 = gradientPng(`${request.prompt}\u0000${index}`, width, height).toString('base64');
    return request.responseFormat === 'url' ? { url: `data:image/png;base64,${b64}` } : { b64Json: b64 };
  });
  return { images };
}

function dimensions(size: string | undefined): [number, number] {
  if (size === undefined || size === 'auto') return [defaultSide, defaultSide];
  const match = /^(\d+)x(\d+)$/.exec(size);
  const [width, height] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (width < 1 || height < 1 || width > maxSide || height > maxSide) {
    throw new SkylarkError('invalid_request', `The sim engine draws images from 1x1 to ${maxSide}x${maxSide}; got '${size}'.`, { param: 'size' });
  }
  return [width, height];
}

export function simSpeech(request: SpeechRequest): SpeechResult {
  if (request.format !== 'wav' && request.format !== 'pcm') {
    throw new SkylarkError('unsupported_parameter', `The sim engine makes wav or pcm audio only, not ${request.format}.`, {
      param: 'response_format',
    });
  }
  const characters = [...request.input].length;
  const seconds = (characters * msPerCharacter) / 1000 / (request.speed ?? 1);
  const samples = Math.max(1, Math.round(seconds * pcm.sampleRate));
  // The voice picks the pitch, so different voices sound different.
  const hertz = 220 + (createHash('sha256').update(request.voice).digest().readUInt16BE(0) % 440);
  const data = Buffer.alloc(samples * 2);
  const fade = Math.min(samples / 2, pcm.sampleRate / 100);
  for (let i = 0; i < samples; i++) {
    const envelope = Math.min(1, i / fade, (samples - 1 - i) / fade);
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hertz * i) / pcm.sampleRate) * 12_000 * envelope), i * 2);
  }
  const bytes = request.format === 'wav' ? wavFile(data, pcm) : data;
  return { contentType: request.format === 'wav' ? 'audio/wav' : 'audio/pcm', audio: once(new Uint8Array(bytes)) };
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

export function simTranscription(request: TranscriptionRequest): TranscriptionResult {
  const ms = wavDurationMs(request.audio);
  if (ms === undefined) {
    throw new SkylarkError('invalid_request', 'The sim engine transcribes WAV files only; this file is not one.', { param: 'file' });
  }
  const seconds = Math.round(ms) / 1000;
  const text = `Simulated transcript of ${seconds.toFixed(2)} seconds of audio.`;
  return {
    text,
    language: request.language ?? 'english',
    durationSeconds: seconds,
    segments: [
      { id: 0, seek: 0, start: 0, end: seconds, text, tokens: [], temperature: request.temperature ?? 0, avg_logprob: 0, compression_ratio: 1, no_speech_prob: 0 },
    ],
  };
}
