/**
 * Usage summed per group for one tenant, for `GET /v1/usage` and the console. One GROUP BY
 * over usage_records, so the database does the adding and the index on (tenant_id,
 * created_at) bounds the scan to the asked range — never a row per request sent back.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { toSafeInteger } from '../store/database.js';
import type { Database } from '../store/schema.js';

export type UsageGroup = 'day' | 'model' | 'key' | 'endpoint';

export const usageGroups: readonly UsageGroup[] = ['day', 'model', 'key', 'endpoint'];

export interface UsageQuery {
  tenantId: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Grouped in this order; empty = one row of totals. */
  groupBy: readonly UsageGroup[];
  modelId?: string;
  apiKeyId?: string;
  endpointId?: string;
}

export interface UsageTotals {
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  costMicros: number;
}

export interface UsageRow extends UsageTotals {
  /** YYYY-MM-DD (UTC), when grouped by day. */
  day?: string;
  modelId?: string;
  /** null: the operator's admin key, which is no stored key. */
  apiKeyId?: string | null;
  /** null: the request named a model, not an endpoint. */
  endpointId?: string | null;
}

const dayMs = 86_400_000;

/**
 * The group expressions. The day is an integer division of the epoch-ms column, the same
 * SQL on both dialects; the divisor is a literal so the SELECT and GROUP BY expressions
 * are textually equal, which PostgreSQL requires.
 */
const groupColumns: Record<UsageGroup, RawBuilder<unknown>> = {
  day: sql`created_at / ${sql.lit(dayMs)}`,
  model: sql`model_id`,
  key: sql`api_key_id`,
  endpoint: sql`endpoint_id`,
};

export class UsageReports {
  constructor(private readonly db: Kysely<Database>) {}

  async summarize(query: UsageQuery): Promise<UsageRow[]> {
    const groups = [...new Set(query.groupBy)];
    let select = this.db
      .selectFrom('usage_records')
      .select((eb) => [
        eb.fn.countAll().as('requests'),
        eb.fn.sum('prompt_tokens').as('prompt_tokens'),
        eb.fn.sum('cached_tokens').as('cached_tokens'),
        eb.fn.sum('completion_tokens').as('completion_tokens'),
        eb.fn.sum('cost_micros').as('cost_micros'),
        ...groups.map((group) => groupColumns[group].as(group)),
      ])
      .where('tenant_id', '=', query.tenantId)
      .where('created_at', '>=', query.from)
      .where('created_at', '<', query.to);
    if (query.modelId !== undefined) select = select.where('model_id', '=', query.modelId);
    if (query.apiKeyId !== undefined) select = select.where('api_key_id', '=', query.apiKeyId);
    if (query.endpointId !== undefined) select = select.where('endpoint_id', '=', query.endpointId);
    // NULLS FIRST spelled out: the dialects' defaults differ (SQLite first, PostgreSQL last).
    for (const group of groups) select = select.groupBy(groupColumns[group]).orderBy(groupColumns[group], (o) => o.asc().nullsFirst());
    const rows = (await select.execute()) as Record<string, unknown>[];
    // Without GROUP BY, SQL answers one row even for no usage: the totals are zeros.
    return rows.map((row) => toUsageRow(row, groups));
  }
}

function toUsageRow(row: Record<string, unknown>, groups: readonly UsageGroup[]): UsageRow {
  const out: UsageRow = {
    requests: toSafeInteger(row.requests),
    promptTokens: toSafeInteger(row.prompt_tokens),
    cachedTokens: toSafeInteger(row.cached_tokens),
    completionTokens: toSafeInteger(row.completion_tokens),
    costMicros: toSafeInteger(row.cost_micros),
  };
  for (const group of groups) {
    const value = row[group];
    if (group === 'day') out.day = new Date(toSafeInteger(value) * dayMs).toISOString().slice(0, 10);
    else if (group === 'model') out.modelId = String(value);
    else if (group === 'key') out.apiKeyId = value === null ? null : String(value);
    else out.endpointId = value === null ? null : String(value);
  }
  return out;
}
