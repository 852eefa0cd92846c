/**
 * Full-text search over one end user's messages, always through the index: FTS5 MATCH on
 * SQLite, the GIN-indexed tsvector on PostgreSQL (see migrations/002-apps.ts).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { dialectOf } from '../store/database.js';
import type { Database, MessageRole } from '../store/schema.js';
import { fts5Query, queryPhrases, snippet, tsQuery } from './search-text.js';

export interface SearchHit {
  messageId: number;
  conversationId: string;
  conversationTitle: string;
  role: MessageRole;
  snippet: string;
  createdAt: number;
}

interface HitRow {
  id: number;
  conversation_id: string;
  title: string;
  role: MessageRole;
  content: string;
  created_at: number;
}

/** The SQL a search runs, for EXPLAIN in tests; undefined when the query has no words. */
export function searchStatement(db: Kysely<Database>, endUserId: string, query: string, limit = 50): RawBuilder<HitRow> | undefined {
  const phrases = queryPhrases(query);
  if (phrases.length === 0) return undefined;
  if (dialectOf(db) === 'sqlite') {
    return sql<HitRow>`select m.id, m.conversation_id, c.title, m.role, m.content, m.created_at
      from messages_fts
      join messages m on m.id = messages_fts.rowid
      join conversations c on c.id = m.conversation_id
      where messages_fts match ${fts5Query(phrases)} and c.end_user_id = ${endUserId}
      order by m.id desc limit ${limit}`;
  }
  return sql<HitRow>`select m.id, m.conversation_id, c.title, m.role, m.content, m.created_at
    from messages m
    join conversations c on c.id = m.conversation_id
    where m.search @@ to_tsquery('simple'::regconfig, ${tsQuery(phrases)}) and c.end_user_id = ${endUserId}
    order by m.id desc limit ${limit}`;
}

export async function searchMessages(db: Kysely<Database>, endUserId: string, query: string, limit = 50): Promise<SearchHit[]> {
  const statement = searchStatement(db, endUserId, query, limit);
  if (statement === undefined) return [];
  const phrases = queryPhrases(query);
  const { rows } = await statement.execute(db);
  return rows.map((row) => ({
    messageId: Number(row.id),
    conversationId: row.conversation_id,
    conversationTitle: row.title,
    role: row.role,
    snippet: snippet(row.content, phrases),
    createdAt: Number(row.created_at),
  }));
}
