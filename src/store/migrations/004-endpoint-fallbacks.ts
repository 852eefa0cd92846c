/**
 * An endpoint's own fallback chain (Ark-style `ep-…` → lighter models), used instead of
 * its model's when the primary cannot meet a request's deadline. JSON array of model ids.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('endpoints')
    .addColumn('fallbacks', 'text', (column) => column.notNull().defaultTo(sql`'[]'`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('endpoints').dropColumn('fallbacks').execute();
}
