/**
 * OpenAI's image, speech and transcription requests. Unknown fields are dropped (like the
 * other OpenAI routes); a field Skylark cannot honour is refused by name in the use case.
 */
import { z } from 'zod';

export const imageRequestSchema = z.object({
  model: z.string().min(1),
  prompt: z.string().min(1).max(32_000),
  n: z.number().int().min(1).max(10).nullish(),
  size: z.string().regex(/^(\d{1,5}x\d{1,5}|auto)$/, 'a size like "1024x1024" or "auto"').nullish(),
  quality: z.enum(['standard', 'hd', 'low', 'medium', 'high', 'auto']).nullish(),
  response_format: z.enum(['url', 'b64_json']).nullish(),
  style: z.enum(['vivid', 'natural']).nullish(),
  user: z.string().optional(),
  stream: z.boolean().nullish(),
});
export type ImageRequestBody = z.infer<typeof imageRequestSchema>;

export const speechFormats = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] as const;

export const speechRequestSchema = z.object({
  model: z.string().min(1),
  input: z.string().min(1).max(4096),
  /** OpenAI's voices (alloy, ash, …) or whatever voice id the upstream knows. */
  voice: z.string().min(1).max(256),
  response_format: z.enum(speechFormats).default('mp3'),
  speed: z.number().min(0.25).max(4).optional(),
  instructions: z.string().max(4096).optional(),
  stream_format: z.enum(['audio']).optional(),
});
export type SpeechRequestBody = z.infer<typeof speechRequestSchema>;

export const transcriptionFormats = ['json', 'text', 'verbose_json'] as const;

/** The multipart form's text fields (the file travels beside them). */
export const transcriptionFieldsSchema = z.object({
  model: z.string().min(1),
  response_format: z.enum(transcriptionFormats).default('json'),
  language: z.string().min(2).max(16).optional(),
  prompt: z.string().max(8192).optional(),
  temperature: z.coerce.number().min(0).max(1).optional(),
});
export type TranscriptionFields = z.infer<typeof transcriptionFieldsSchema>;

/** The web app's image request (/api/media/images): one image from a model with `images`. */
export const webImageBody = z.strictObject({
  model: z.string().min(1),
  prompt: z.string().trim().min(1).max(4000),
});

/** The web app's "play" (/api/media/speech): an answer read aloud by the first speech model. */
export const webSpeechBody = z.strictObject({
  text: z.string().trim().min(1).max(4096),
});
