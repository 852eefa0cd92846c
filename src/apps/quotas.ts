/**
 * Each end user's daily free tokens per app, counted per UTC day. Counting happens after
 * a reply (its exact usage); the check before a reply only asks whether any is left, so a
 * user can overshoot by at most one reply, whose length the quota also caps.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { toSafeInteger } from '../store/database.js';

const dayMs = 24 * 3600_000;

export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** When the day containing `at` ends, UTC. */
export function nextUtcMidnight(at: number): number {
  return Math.floor(at / dayMs) * dayMs + dayMs;
}

export interface AppDayUsage {
  day: string;
  tokens: number;
  requests: number;
  users: number;
}

export class Quotas {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async used(appId: string, endUserId: string): Promise<number> {
    const row = await this.db
      .selectFrom('app_usage_daily')
      .select('tokens')
      .where('app_id', '=', appId)
      .where('end_user_id', '=', endUserId)
      .where('day', '=', utcDay(this.now()))
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.tokens);
  }

  async add(appId: string, endUserId: string, tokens: number): Promise<void> {
    await this.db
      .insertInto('app_usage_daily')
      .values({ app_id: appId, end_user_id: endUserId, day: utcDay(this.now()), tokens, requests: 1 })
      .onConflict((oc) =>
        oc.columns(['app_id', 'end_user_id', 'day']).doUpdateSet((eb) => ({
          tokens: eb('app_usage_daily.tokens', '+', eb.ref('excluded.tokens')),
          requests: eb('app_usage_daily.requests', '+', 1),
        })),
      )
      .execute();
  }

  /** An app's use by day, newest first: what its owner sees. */
  async byDay(appId: string, days = 30): Promise<AppDayUsage[]> {
    const since = utcDay(this.now() - (days - 1) * dayMs);
    const rows = await this.db
      .selectFrom('app_usage_daily')
      .select((eb) => [
        'day',
        eb.fn.sum<number>('tokens').as('tokens'),
        eb.fn.sum<number>('requests').as('requests'),
        eb.fn.countAll<number>().as('users'),
      ])
      .where('app_id', '=', appId)
      .where('day', '>=', since)
      .groupBy('day')
      .orderBy('day', 'desc')
      .execute();
    return rows.map((row) => ({
      day: row.day,
      tokens: toSafeInteger(row.tokens),
      requests: toSafeInteger(row.requests),
      users: toSafeInteger(row.users),
    }));
  }
}
