/** POST /v1/images/generations, on engines whose models declare `images`. */
import { SkylarkError } from '../core/errors.js';
import type { MediaUnits } from '../core/usage.js';
import { parseRequest } from '../contracts/parse.js';
import { imageRequestSchema } from '../contracts/media-request.js';
import type { ImagesResponse } from '../contracts/media-responses.js';
import type { ImageRequest, ImageResult } from '../engines/engine.js';
import { runMedia } from './scheduled-call.js';
import type { GatewayDeps, RequestContext } from './request-context.js';

const basePixels = 1024 * 1024;

/**
 * What one image is billed as, in units of the catalog's per-image price: a standard
 * image up to 1024×1024 is 1; larger sizes count one unit per started 1024² of pixels
 * (1792×1024 → 2); `hd` or `high` quality doubles it. (OpenAI's dall-e-3 list prices
 * follow the same steps: $0.04, $0.08, and $0.08 for hd.)
 */
export function imageUnits(size: string | undefined, quality: string | undefined): number {
  const match = size === undefined ? null : /^(\d+)x(\d+)$/.exec(size);
  const pixels = match ? Number(match[1]) * Number(match[2]) : basePixels;
  return Math.max(1, Math.ceil(pixels / basePixels)) * (quality === 'hd' || quality === 'high' ? 2 : 1);
}

export async function createImages(deps: GatewayDeps, body: unknown, context: RequestContext): Promise<ImagesResponse> {
  const request = parseRequest(imageRequestSchema, body);
  if (request.stream === true) {
    throw new SkylarkError('unsupported_parameter', 'Streaming image generation is not supported; leave stream unset.', { param: 'stream' });
  }
  const n = request.n ?? 1;
  const size = request.size ?? undefined;
  const quality = request.quality ?? undefined;
  const units: MediaUnits = { kind: 'image', units: n * imageUnits(size, quality) };
  const result = await runMedia<ImageResult>(deps, context, {
    model: request.model,
    capability: 'images',
    endpoint: 'images.generations',
    promptText: request.prompt,
    maxUnits: units,
    run: async function* (engine, model) {
      const call: ImageRequest = {
        model: model.engineModel,
        prompt: request.prompt,
        n,
        signal: context.signal,
        requestId: context.requestId,
        ...(size === undefined ? {} : { size }),
        ...(quality === undefined ? {} : { quality }),
        ...(request.style == null ? {} : { style: request.style }),
        ...(request.response_format == null ? {} : { responseFormat: request.response_format }),
        ...(request.user === undefined ? {} : { user: request.user }),
      };
      yield await engine.images!(call);
    },
    // Billed for the images delivered: an upstream that made fewer than asked is charged fewer.
    units: ([result]) => ({ kind: 'image', units: Math.min(n, result?.images.length ?? 0) * imageUnits(size, quality) }),
  });
  return {
    created: Math.floor(deps.clock.wallNow().getTime() / 1000),
    data: result.images.map((image) => ({
      ...(image.b64Json === undefined ? {} : { b64_json: image.b64Json }),
      ...(image.url === undefined ? {} : { url: image.url }),
      ...(image.revisedPrompt === undefined ? {} : { revised_prompt: image.revisedPrompt }),
    })),
  };
}
