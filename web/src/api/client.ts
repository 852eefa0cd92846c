/**
 * The web app's one way to reach the server: same-origin fetch with the session cookie,
 * the CSRF header copied from its cookie on state-changing requests, and errors turned
 * into ApiError with the server's code and Retry-After.
 */
import type {
  ConversationDetail,
  CreateAppRequest,
  PostMessageRequest,
  PostMessageResult,
  SessionInfo,
  UpdateAppRequest,
  WireApp,
  WireAppUsageDay,
  WireChatModel,
  WireConversation,
  WireEndUser,
  WireQuota,
  WireSearchHit,
} from '../../../src/contracts/apps-api.js';
import type { ImagesResponse, WireMediaModels } from '../../../src/contracts/media-responses.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** From Retry-After, in ms; null when the server gave none. */
    readonly retryAfterMs: number | null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer: offline, DNS, server down. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

export function csrfToken(): string {
  const match = /(?:^|;\s*)sky_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]!) : '';
}

export async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-skylark-csrf'] = csrfToken();
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new NetworkError(error);
  }
  if (!response.ok) throw await toApiError(response);
  return response;
}

export async function toApiError(response: Response): Promise<ApiError> {
  const retryAfter = response.headers.get('retry-after');
  const retryAfterMs = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : null;
  let error: { code?: string; message?: string; param?: string | null } = {};
  try {
    error = ((await response.json()) as { error?: typeof error }).error ?? {};
  } catch {
    // not JSON: a proxy's error page
  }
  return new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, retryAfterMs, error.param ?? null);
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  session: () => json<SessionInfo>('GET', '/api/session'),
  signUp: (username: string, password: string) => json<{ user: WireEndUser }>('POST', '/api/auth/signup', { username, password }),
  signIn: (username: string, password: string) => json<{ user: WireEndUser }>('POST', '/api/auth/signin', { username, password }),
  guest: () => json<{ user: WireEndUser }>('POST', '/api/auth/guest'),
  signOut: () => json<void>('POST', '/api/auth/signout'),

  models: () => json<{ data: WireChatModel[] }>('GET', '/api/models').then((r) => r.data),
  apps: (scope: 'public' | 'mine') => json<{ data: WireApp[] }>('GET', `/api/apps?scope=${scope}`).then((r) => r.data),
  app: (slug: string) => json<WireApp>('GET', `/api/apps/${enc(slug)}`),
  createApp: (app: CreateAppRequest) => json<WireApp>('POST', '/api/apps', app),
  updateApp: (slug: string, changes: UpdateAppRequest) => json<WireApp>('PATCH', `/api/apps/${enc(slug)}`, changes),
  deleteApp: (slug: string) => json<void>('DELETE', `/api/apps/${enc(slug)}`),
  appUsage: (slug: string) => json<{ data: WireAppUsageDay[] }>('GET', `/api/apps/${enc(slug)}/usage`).then((r) => r.data),
  quota: (slug: string) => json<WireQuota>('GET', `/api/apps/${enc(slug)}/quota`),

  conversations: () => json<{ data: WireConversation[] }>('GET', '/api/conversations').then((r) => r.data),
  createConversation: (app: string, model?: string) =>
    json<WireConversation>('POST', '/api/conversations', model === undefined ? { app } : { app, model }),
  conversation: (id: string) => json<ConversationDetail>('GET', `/api/conversations/${enc(id)}`),
  rename: (id: string, title: string) => json<WireConversation>('PATCH', `/api/conversations/${enc(id)}`, { title }),
  deleteConversation: (id: string) => json<void>('DELETE', `/api/conversations/${enc(id)}`),
  search: (q: string) => json<{ data: WireSearchHit[] }>('GET', `/api/search?q=${enc(q)}`).then((r) => r.data),
  sendMessage: (id: string, message: PostMessageRequest) => json<PostMessageResult>('POST', `/api/conversations/${enc(id)}/messages`, message),
  regenerate: (id: string) => json<PostMessageResult>('POST', `/api/conversations/${enc(id)}/regenerate`),
  stop: (id: string) => json<{ stopped: boolean }>('POST', `/api/conversations/${enc(id)}/stop`),
  stream: (id: string, signal: AbortSignal) => send('GET', `/api/conversations/${enc(id)}/stream`, undefined, signal),

  mediaModels: () => json<WireMediaModels>('GET', '/api/media/models'),
  generateImage: (model: string, prompt: string) => json<ImagesResponse>('POST', '/api/media/images', { model, prompt }),
  /** The text read aloud, as a WAV file. */
  speak: (text: string) => send('POST', '/api/media/speech', { text }).then((response) => response.blob()),
};
