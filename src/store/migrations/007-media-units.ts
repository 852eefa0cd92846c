/**
 * Images, speech and transcription (issue 12): their prices in the catalog (per image
 * unit, per 1M input characters, per audio minute; 0 = free, as rows from before are), and
 * what each usage row was billed by when not tokens (`unit_kind` null for token rows).
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

export async function up(db: Kysely<any>): Promise<void> {
  const big = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
  for (const column of ['image_micros', 'speech_per_m_chars_micros', 'audio_per_minute_micros']) {
    await db.schema
      .alterTable('prices')
      .addColumn(column, big, (c) => c.notNull().defaultTo(0).check(sql`${sql.ref(column)} >= 0`))
      .execute();
  }
  await db.schema
    .alterTable('usage_records')
    .addColumn('units', big, (c) => c.notNull().defaultTo(0).check(sql`units >= 0`))
    .execute();
  await db.schema
    .alterTable('usage_records')
    .addColumn('unit_kind', 'text', (c) => c.check(sql`unit_kind in ('image', 'speech_char', 'audio_second')`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('usage_records').dropColumn('unit_kind').execute();
  await db.schema.alterTable('usage_records').dropColumn('units').execute();
  for (const column of ['audio_per_minute_micros', 'speech_per_m_chars_micros', 'image_micros']) {
    await db.schema.alterTable('prices').dropColumn(column).execute();
  }
}
