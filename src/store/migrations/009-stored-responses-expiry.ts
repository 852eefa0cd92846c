/**
 * Stored responses now expire (src/responses: `responses.retentionDays`, 30 by default): the
 * sweep deletes by age across tenants, which the (tenant_id, created_at) index cannot serve.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('stored_responses_by_age').on('stored_responses').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('stored_responses_by_age').execute();
}
