/**
 * Apps made in the app factory: a model with a system prompt, sampling settings, an
 * opening, suggested questions and a daily free token quota per end user.
 */
import type { Kysely, Selectable, Updateable } from 'kysely';
import { billingId } from '../core/row-ids.js';
import type { AppsTable, AppVisibility, Database } from '../store/schema.js';

export interface AppSettings {
  name: string;
  icon: string;
  description: string;
  /** Model id or `ep-…` endpoint id; null lets the end user pick. */
  model: string | null;
  systemPrompt: string;
  temperature: number | null;
  maxTokens: number | null;
  openingMessage: string;
  suggestedQuestions: string[];
  fallbackModel: string | null;
  advanced: AdvancedSampling;
  visibility: AppVisibility;
  dailyTokenQuota: number;
}

/** Sampling settings beyond temperature and max_tokens, in OpenAI's names. */
export interface AdvancedSampling {
  top_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  stop?: string[];
  logit_bias?: Record<string, number>;
}

export interface App extends AppSettings {
  id: string;
  slug: string;
  ownerId: string | null;
  createdAt: number;
  updatedAt: number;
}

export class Apps {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns undefined when the slug is taken. */
  async create(ownerId: string, slug: string, settings: AppSettings): Promise<App | undefined> {
    const now = this.now();
    const row: Selectable<AppsTable> = {
      id: billingId('app'),
      slug,
      owner_id: ownerId,
      ...toColumns(settings),
      created_at: now,
      updated_at: now,
    } as Selectable<AppsTable>;
    const inserted = await this.db
      .insertInto('apps')
      .values(row)
      .onConflict((oc) => oc.column('slug').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1 ? toApp(row) : undefined;
  }

  async update(id: string, changes: Partial<AppSettings>): Promise<void> {
    await this.db
      .updateTable('apps')
      .set({ ...toColumns(changes), updated_at: this.now() })
      .where('id', '=', id)
      .execute();
  }

  /** Its conversations, messages and usage go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('apps').where('id', '=', id).execute();
  }

  async bySlug(slug: string): Promise<App | undefined> {
    const row = await this.db.selectFrom('apps').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row === undefined ? undefined : toApp(row);
  }

  async byId(id: string): Promise<App | undefined> {
    const row = await this.db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toApp(row);
  }

  async listPublic(limit = 100): Promise<App[]> {
    const rows = await this.db
      .selectFrom('apps')
      .selectAll()
      .where('visibility', '=', 'public')
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toApp);
  }

  async listOwnedBy(ownerId: string): Promise<App[]> {
    const rows = await this.db
      .selectFrom('apps')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .orderBy('updated_at', 'desc')
      .execute();
    return rows.map(toApp);
  }
}

function toColumns(settings: Partial<AppSettings>): Updateable<AppsTable> {
  const columns: Updateable<AppsTable> = {};
  if (settings.name !== undefined) columns.name = settings.name;
  if (settings.icon !== undefined) columns.icon = settings.icon;
  if (settings.description !== undefined) columns.description = settings.description;
  if (settings.model !== undefined) columns.model = settings.model;
  if (settings.systemPrompt !== undefined) columns.system_prompt = settings.systemPrompt;
  if (settings.temperature !== undefined) columns.temperature = settings.temperature;
  if (settings.maxTokens !== undefined) columns.max_tokens = settings.maxTokens;
  if (settings.openingMessage !== undefined) columns.opening_message = settings.openingMessage;
  if (settings.suggestedQuestions !== undefined) columns.suggested_questions = JSON.stringify(settings.suggestedQuestions);
  if (settings.fallbackModel !== undefined) columns.fallback_model = settings.fallbackModel;
  if (settings.advanced !== undefined) columns.advanced = JSON.stringify(settings.advanced);
  if (settings.visibility !== undefined) columns.visibility = settings.visibility;
  if (settings.dailyTokenQuota !== undefined) columns.daily_token_quota = settings.dailyTokenQuota;
  return columns;
}

function toApp(row: Selectable<AppsTable>): App {
  return {
    id: row.id,
    slug: row.slug,
    ownerId: row.owner_id,
    name: row.name,
    icon: row.icon,
    description: row.description,
    model: row.model,
    systemPrompt: row.system_prompt,
    temperature: row.temperature === null ? null : Number(row.temperature),
    maxTokens: row.max_tokens === null ? null : Number(row.max_tokens),
    openingMessage: row.opening_message,
    suggestedQuestions: JSON.parse(row.suggested_questions) as string[],
    fallbackModel: row.fallback_model,
    advanced: JSON.parse(row.advanced) as AdvancedSampling,
    visibility: row.visibility,
    dailyTokenQuota: Number(row.daily_token_quota),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
