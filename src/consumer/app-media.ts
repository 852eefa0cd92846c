/**
 * Images and speech in the web app: the same scheduled, billed use cases as
 * /v1/images/generations and /v1/audio/speech, billed to the operator tenant like web app
 * replies (the platform offers them) and waiting in the free tier.
 */
import { SkylarkError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { parseRequest } from '../contracts/parse.js';
import { webImageBody, webSpeechBody } from '../contracts/media-request.js';
import type { ImagesResponse, WireMediaModels } from '../contracts/media-responses.js';
import type { EndUser } from '../apps/end-users.js';
import { webAppPrincipal, type ConsumerDeps } from './consumer-deps.js';
import { requireUser } from './end-user-auth.js';
import { createImages } from '../gateway/images.js';
import type { RequestContext } from '../gateway/request-context.js';
import { createSpeech, type SpeechAnswer } from '../gateway/speech.js';

/** Images the web app draws: small enough to show in a conversation. */
const webImageSize = '512x512';

export function mediaModels(deps: ConsumerDeps): WireMediaModels {
  const models = deps.gateway.catalog.list();
  return {
    images: models.filter((m) => m.capabilities.includes('images')).map((m) => m.id),
    speech: models.find((m) => m.capabilities.includes('speech'))?.id ?? null,
  };
}

function contextFor(signal: AbortSignal): RequestContext {
  return { requestId: newId('req').slice(4), signal, principal: webAppPrincipal(), responseHeaders: {} };
}

export async function webImage(deps: ConsumerDeps, user: EndUser | undefined, body: unknown, signal: AbortSignal): Promise<ImagesResponse> {
  requireUser(user);
  const request = parseRequest(webImageBody, body);
  return createImages(deps.gateway, { model: request.model, prompt: request.prompt, size: webImageSize, response_format: 'b64_json' }, contextFor(signal));
}

/** WAV: every browser plays it, and the sim engine makes it. */
export async function webSpeech(deps: ConsumerDeps, user: EndUser | undefined, body: unknown, signal: AbortSignal): Promise<SpeechAnswer> {
  requireUser(user);
  const request = parseRequest(webSpeechBody, body);
  const model = mediaModels(deps).speech;
  if (model === null) throw new SkylarkError('not_found', 'No model here reads answers aloud.');
  return createSpeech(deps.gateway, { model, input: request.text, voice: 'alloy', response_format: 'wav' }, contextFor(signal));
}
