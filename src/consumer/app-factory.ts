/**
 * The app factory: members make apps; everyone sees public ones; owners edit theirs and
 * see their usage. Built-in apps (no owner) cannot be edited here.
 */
import { SkylarkError } from '../core/errors.js';
import { randomString } from '../core/ids.js';
import {
  createAppSchema,
  updateAppSchema,
  type WireApp,
  type WireAppUsageDay,
  type WireChatModel,
  type WireQuota,
} from '../contracts/apps-api.js';
import { parseRequest } from '../contracts/parse.js';
import type { App, AppSettings } from '../apps/apps.js';
import type { EndUser } from '../apps/end-users.js';
import { nextUtcMidnight } from '../apps/quotas.js';
import type { ConsumerDeps } from './consumer-deps.js';
import { toWireApp } from './consumer-wire.js';
import { requireMember } from './end-user-auth.js';

export function chatModels(deps: ConsumerDeps): WireChatModel[] {
  return deps.gateway.catalog
    .list()
    .filter((entry) => entry.capabilities.includes('chat'))
    .map((entry) => ({ id: entry.id, ready: entry.engine.health().state === 'ready' }));
}

export async function listApps(deps: ConsumerDeps, viewer: EndUser | undefined, scope: 'public' | 'mine'): Promise<WireApp[]> {
  const apps = scope === 'mine' ? await deps.apps.listOwnedBy(requireMember(viewer).id) : await deps.apps.listPublic();
  return apps.map((app) => toWireApp(app, viewer));
}

/** Public apps for anyone; private ones for their owner only (others get a 404). */
export async function visibleApp(deps: ConsumerDeps, viewer: EndUser | undefined, slug: string): Promise<App> {
  const app = await deps.apps.bySlug(slug);
  if (app === undefined || (app.visibility === 'private' && (viewer === undefined || app.ownerId !== viewer.id))) {
    throw new SkylarkError('not_found', `There is no app '${slug}'.`);
  }
  return app;
}

export async function getApp(deps: ConsumerDeps, viewer: EndUser | undefined, slug: string): Promise<WireApp> {
  return toWireApp(await visibleApp(deps, viewer, slug), viewer);
}

export async function createApp(deps: ConsumerDeps, viewer: EndUser | undefined, body: unknown): Promise<WireApp> {
  const owner = requireMember(viewer);
  const { slug, ...fields } = parseRequest(createAppSchema, body);
  const settings = toSettings(fields) as AppSettings;
  await checkModels(deps, settings);
  for (let attempt = 0; attempt < 3; attempt++) {
    const app = await deps.apps.create(owner.id, slug ?? generatedSlug(settings.name), settings);
    if (app !== undefined) return toWireApp(app, owner);
    if (slug !== undefined) throw new SkylarkError('invalid_request', `The slug '${slug}' is taken.`, { param: 'slug' });
  }
  throw new SkylarkError('internal_error', 'Could not find a free slug for the app.');
}

export async function updateApp(deps: ConsumerDeps, viewer: EndUser | undefined, slug: string, body: unknown): Promise<WireApp> {
  const app = await ownedApp(deps, viewer, slug);
  const changes = toSettings(parseRequest(updateAppSchema, body));
  await checkModels(deps, changes);
  await deps.apps.update(app.id, changes);
  return toWireApp((await deps.apps.byId(app.id))!, viewer);
}

export async function deleteApp(deps: ConsumerDeps, viewer: EndUser | undefined, slug: string): Promise<void> {
  await deps.apps.delete((await ownedApp(deps, viewer, slug)).id);
}

export async function appUsage(deps: ConsumerDeps, viewer: EndUser | undefined, slug: string): Promise<WireAppUsageDay[]> {
  return deps.quotas.byDay((await ownedApp(deps, viewer, slug)).id);
}

export function dailyLimit(deps: ConsumerDeps, app: App, user: EndUser): number {
  return user.kind === 'guest' ? Math.min(app.dailyTokenQuota, deps.guestDailyTokens) : app.dailyTokenQuota;
}

export async function quotaOf(deps: ConsumerDeps, app: App, user: EndUser): Promise<WireQuota> {
  return { limit: dailyLimit(deps, app, user), used: await deps.quotas.used(app.id, user.id), resets_at: nextUtcMidnight(deps.now()) };
}

async function ownedApp(deps: ConsumerDeps, viewer: EndUser | undefined, slug: string): Promise<App> {
  const owner = requireMember(viewer);
  const app = await visibleApp(deps, owner, slug);
  if (app.ownerId !== owner.id) throw new SkylarkError('permission_denied', 'Only the app\'s owner can change it.');
  return app;
}

/** A model or fallback must be a chat model here, or a shared (preset) endpoint of one. */
async function checkModels(deps: ConsumerDeps, settings: Partial<AppSettings>): Promise<void> {
  for (const [param, id] of [['model', settings.model], ['fallback_model', settings.fallbackModel]] as const) {
    if (id == null) continue;
    let modelId = id;
    if (id.startsWith('ep-')) {
      const endpoint = await deps.gateway.endpoints.get(id);
      if (endpoint === undefined || endpoint.tenantId !== null) {
        throw new SkylarkError('invalid_request', `There is no shared endpoint '${id}'.`, { param });
      }
      modelId = endpoint.modelId;
    }
    const entry = deps.gateway.catalog.list().find((model) => model.id === modelId);
    if (entry === undefined || !entry.capabilities.includes('chat')) {
      throw new SkylarkError('invalid_request', `There is no chat model '${id}'.`, { param });
    }
  }
}

type SettingsFields = { [K in keyof ReturnType<typeof updateAppSchema.parse>]?: ReturnType<typeof updateAppSchema.parse>[K] };

function toSettings(fields: SettingsFields): Partial<AppSettings> {
  const settings: Partial<AppSettings> = {};
  if (fields.name !== undefined) settings.name = fields.name;
  if (fields.icon !== undefined) settings.icon = fields.icon;
  if (fields.description !== undefined) settings.description = fields.description;
  if (fields.model !== undefined) settings.model = fields.model;
  if (fields.system_prompt !== undefined) settings.systemPrompt = fields.system_prompt;
  if (fields.temperature !== undefined) settings.temperature = fields.temperature;
  if (fields.max_tokens !== undefined) settings.maxTokens = fields.max_tokens;
  if (fields.opening_message !== undefined) settings.openingMessage = fields.opening_message;
  if (fields.suggested_questions !== undefined) settings.suggestedQuestions = fields.suggested_questions;
  if (fields.fallback_model !== undefined) settings.fallbackModel = fields.fallback_model;
  if (fields.advanced !== undefined) settings.advanced = fields.advanced;
  if (fields.visibility !== undefined) settings.visibility = fields.visibility;
  if (fields.daily_token_quota !== undefined) settings.dailyTokenQuota = fields.daily_token_quota;
  return settings;
}

function generatedSlug(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'app';
  return `${base}-${randomString(5, '0123456789abcdefghijklmnopqrstuvwxyz')}`;
}
