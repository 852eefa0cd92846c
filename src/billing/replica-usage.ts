/**
 * Tokens and revenue per day, model and serving replica, over all tenants: the input of
 * GET /admin/economics. One GROUP BY on the created_at index.
 */
import { sql, type Kysely } from 'kysely';
import { toSafeInteger } from '../store/database.js';
import type { Database } from '../store/schema.js';

const dayMs = 86_400_000;

export interface ReplicaDayUsage {
  /** UTC day number (epoch ms / 86,400,000). */
  day: number;
  modelId: string;
  /** null: served before replicas were recorded, or not by a scheduled engine. */
  replicaId: string | null;
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  revenueMicros: number;
}

export async function replicaUsageByDay(db: Kysely<Database>, from: number, to: number): Promise<ReplicaDayUsage[]> {
  const day = sql<number>`created_at / ${sql.lit(dayMs)}`;
  const rows = await db
    .selectFrom('usage_records')
    .select((eb) => [
      day.as('day'),
      'model_id',
      'replica_id',
      eb.fn.countAll().as('requests'),
      eb.fn.sum('prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('cached_tokens').as('cached_tokens'),
      eb.fn.sum('completion_tokens').as('completion_tokens'),
      eb.fn.sum('cost_micros').as('revenue'),
    ])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .groupBy([day, 'model_id', 'replica_id'])
    .orderBy(day)
    .orderBy('model_id')
    .execute();
  return rows.map((row) => ({
    day: toSafeInteger(row.day),
    modelId: row.model_id,
    replicaId: row.replica_id,
    requests: toSafeInteger(row.requests),
    promptTokens: toSafeInteger(row.prompt_tokens),
    cachedTokens: toSafeInteger(row.cached_tokens),
    completionTokens: toSafeInteger(row.completion_tokens),
    revenueMicros: toSafeInteger(row.revenue),
  }));
}
