import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** What a key has been charged since `since` (epoch ms): the spent part of a monthly budget. */
export async function keySpendSince(db: Kysely<Database>, apiKeyId: string, since: number): Promise<number> {
  const row = await db
    .selectFrom('usage_records')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_micros'), eb.lit(0)).as('spent'))
    .where('api_key_id', '=', apiKeyId)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.spent);
}

/** The first millisecond of the UTC month holding `at`, and the month's name (2026-11). */
export function utcMonth(at: Date): { start: number; name: string } {
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  return { start, name: new Date(start).toISOString().slice(0, 7) };
}
