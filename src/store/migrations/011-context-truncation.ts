/**
 * Ark's `truncation_strategy` for session contexts (src/contexts/truncation.ts): the
 * strategy as JSON (null: none), and `turns`, a JSON array of the history's turns
 * (`{messages, tokens}`, oldest first) after the messages the context was created with, so
 * whole turns can be forgotten. Contexts created before this have `[]`: all their messages
 * count as the creation's, which no strategy drops.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contexts').addColumn('truncation', 'text').execute();
  await db.schema.alterTable('contexts').addColumn('turns', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contexts').dropColumn('turns').execute();
  await db.schema.alterTable('contexts').dropColumn('truncation').execute();
}
