/**
 * The consumer side: end users and their sessions, apps, conversations, messages and the
 * per-user daily token use of each app.
 *
 * Full-text search differs by dialect and is the point of this file's raw SQL: SQLite
 * gets an FTS5 table over `messages.search_text` kept current by triggers; PostgreSQL a
 * stored tsvector column with a GIN index. Both use word tokenizers that lower-case
 * (unicode61 / the `simple` configuration), and `search_text` spaces CJK characters apart
 * so Chinese is searchable character by character in both.
 */
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.js';

const oneOf = (column: string, values: readonly string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

/** The built-in Chat app: the user picks the model; everyone may use it. */
export const builtInChatApp = { id: 'app_chat', slug: 'chat' } as const;

export async function up(db: Kysely<any>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const big = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('end_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.unique())
    .addColumn('password_hash', 'text')
    .addColumn('kind', 'text', (c) => c.notNull().check(oneOf('kind', ['member', 'guest'])))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('end_user_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('end_user_id', 'text', (c) => c.notNull().references('end_users.id').onDelete('cascade'))
    .addColumn('expires_at', big, (c) => c.notNull())
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_by_user').on('end_user_sessions').column('end_user_id').execute();

  await db.schema
    .createTable('apps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('owner_id', 'text', (c) => c.references('end_users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('icon', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('model', 'text')
    .addColumn('system_prompt', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('temperature', pg ? 'double precision' : 'real')
    .addColumn('max_tokens', 'integer')
    .addColumn('opening_message', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('suggested_questions', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('fallback_model', 'text')
    .addColumn('advanced', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('visibility', 'text', (c) => c.notNull().check(oneOf('visibility', ['public', 'private'])))
    .addColumn('daily_token_quota', 'integer', (c) => c.notNull().check(sql`daily_token_quota >= 0`))
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('apps_by_owner').on('apps').columns(['owner_id', 'updated_at']).execute();
  await db.schema.createIndex('apps_by_visibility').on('apps').columns(['visibility', 'updated_at']).execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('end_user_id', 'text', (c) => c.notNull().references('end_users.id').onDelete('cascade'))
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('model', 'text')
    .addColumn('created_at', big, (c) => c.notNull())
    .addColumn('updated_at', big, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('conversations_by_user')
    .on('conversations')
    .columns(['end_user_id', 'updated_at'])
    .execute();

  await db.schema
    .createTable('messages')
    // SQLite: `integer primary key` is the rowid, which the FTS5 table points at;
    // autoincrement so the id of a deleted last message (edit, regenerate) is never reused
    // while a page may still hold it.
    .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(oneOf('role', ['user', 'assistant'])))
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('search_text', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(oneOf('status', ['complete', 'streaming', 'stopped', 'error'])),
    )
    .addColumn('error_code', 'text')
    .addColumn('model', 'text')
    .addColumn('prompt_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('completion_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_by_conversation').on('messages').columns(['conversation_id', 'id']).execute();
  await (pg ? postgresSearch(db) : sqliteSearch(db));

  await db.schema
    .createTable('app_usage_daily')
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('end_user_id', 'text', (c) => c.notNull().references('end_users.id').onDelete('cascade'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('tokens', big, (c) => c.notNull().defaultTo(0))
    .addColumn('requests', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('app_usage_daily_pk', ['app_id', 'end_user_id', 'day'])
    .execute();
  await db.schema.createIndex('app_usage_by_app_day').on('app_usage_daily').columns(['app_id', 'day']).execute();

  const now = Date.now();
  await db
    .insertInto('apps')
    .values({
      ...builtInChatApp,
      owner_id: null,
      name: 'Chat',
      icon: '💬',
      description: 'Talk with any model on this platform.',
      model: null,
      system_prompt: '',
      temperature: null,
      max_tokens: null,
      opening_message: '',
      suggested_questions: '[]',
      fallback_model: null,
      advanced: '{}',
      visibility: 'public',
      daily_token_quota: 50_000,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

async function sqliteSearch(db: Kysely<any>): Promise<void> {
  await sql`create virtual table messages_fts using fts5(
    search_text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
  )`.execute(db);
  await sql`create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts(rowid, search_text) values (new.id, new.search_text);
  end`.execute(db);
  await sql`create trigger messages_fts_delete after delete on messages begin
    insert into messages_fts(messages_fts, rowid, search_text) values ('delete', old.id, old.search_text);
  end`.execute(db);
  await sql`create trigger messages_fts_update after update of search_text on messages begin
    insert into messages_fts(messages_fts, rowid, search_text) values ('delete', old.id, old.search_text);
    insert into messages_fts(rowid, search_text) values (new.id, new.search_text);
  end`.execute(db);
}

async function postgresSearch(db: Kysely<any>): Promise<void> {
  await sql`alter table messages add column search tsvector
    generated always as (to_tsvector('simple'::regconfig, search_text)) stored`.execute(db);
  // fastupdate off: new rows go straight into the index instead of a pending list, which
  // the planner costs as a scan of its own and then prefers a sequential scan. Messages
  // arrive a few per reply, so the slower insert costs nothing that matters.
  await sql`create index messages_search on messages using gin (search) with (fastupdate = off)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'sqlite') await sql`drop table if exists messages_fts`.execute(db);
  for (const table of ['app_usage_daily', 'messages', 'conversations', 'apps', 'end_user_sessions', 'end_users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
