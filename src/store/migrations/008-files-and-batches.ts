/**
 * The Files and Batch APIs (issue 11). `files` holds each upload's metadata (its bytes
 * live in a FileStorage: a directory in the data dir by default); `batches` is one batch
 * job with its lease (`owner`, `heartbeat_at`: the gateway running it); `batch_lines` is
 * one request of a batch with its result once run — the durable progress a restarted or
 * succeeding gateway resumes from.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

export async function up(db: Kysely<any>): Promise<void> {
  const big = dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable('files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('bytes', big, (c) => c.notNull().check(sql`bytes >= 0`))
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('expires_at', big)
    .execute();
  await db.schema.createIndex('files_by_tenant').on('files').columns(['tenant_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('api_key_id', 'text')
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('input_file_id', 'text', (c) => c.notNull())
    .addColumn('completion_window', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('metadata', 'text')
    .addColumn('errors', 'text')
    .addColumn('output_file_id', 'text')
    .addColumn('error_file_id', 'text')
    .addColumn('total', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('expires_at', big, (c) => c.notNull())
    .addColumn('in_progress_at', big)
    .addColumn('finalizing_at', big)
    .addColumn('completed_at', big)
    .addColumn('failed_at', big)
    .addColumn('expired_at', big)
    .addColumn('cancelling_at', big)
    .addColumn('cancelled_at', big)
    .addColumn('owner', 'text')
    .addColumn('heartbeat_at', big)
    .execute();
  await db.schema.createIndex('batches_by_tenant').on('batches').columns(['tenant_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('batches_by_status').on('batches').column('status').execute();

  await db.schema
    .createTable('batch_lines')
    .addColumn('batch_id', 'text', (c) => c.notNull().references('batches.id'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('custom_id', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('finished_at', big)
    .addPrimaryKeyConstraint('batch_lines_pk', ['batch_id', 'line_no'])
    .addUniqueConstraint('batch_lines_custom_id', ['batch_id', 'custom_id'])
    .execute();
  await db.schema.createIndex('batch_lines_by_status').on('batch_lines').columns(['batch_id', 'status', 'line_no']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('batch_lines').execute();
  await db.schema.dropTable('batches').execute();
  await db.schema.dropTable('files').execute();
}
