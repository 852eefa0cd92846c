/**
 * Conversations and their messages, stored on the server so a reply survives reloads and
 * devices. Messages are append-only except for the assistant reply being generated (its
 * row is written when it starts and completed when it ends) and for edit/regenerate,
 * which cut the conversation back to a message.
 */
import type { Kysely, Selectable } from 'kysely';
import { billingId } from '../core/row-ids.js';
import type { Database, MessageRole, MessageStatus, MessagesTable } from '../store/schema.js';
import { searchText } from './search-text.js';

export interface Conversation {
  id: string;
  endUserId: string;
  appId: string;
  title: string;
  model: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Message {
  id: number;
  conversationId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  errorCode: string | null;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  createdAt: number;
}

export interface MessageOutcome {
  content: string;
  status: Exclude<MessageStatus, 'streaming'>;
  errorCode?: string | null;
  model?: string | null;
  promptTokens?: number;
  completionTokens?: number;
}

// Named, not `*`: on PostgreSQL a row also holds its tsvector, which nobody reads back.
const messageColumns = [
  'id', 'conversation_id', 'role', 'content', 'status', 'error_code', 'model', 'prompt_tokens', 'completion_tokens', 'created_at',
] as const;

export class Conversations {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: { endUserId: string; appId: string; title: string; model: string | null }): Promise<Conversation> {
    const now = this.now();
    const row = { id: billingId('cnv'), end_user_id: input.endUserId, app_id: input.appId, title: input.title, model: input.model, created_at: now, updated_at: now };
    await this.db.insertInto('conversations').values(row).execute();
    return toConversation(row);
  }

  async get(id: string): Promise<Conversation | undefined> {
    const row = await this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toConversation(row);
  }

  /** Newest first, through the (end_user_id, updated_at) index. */
  async listFor(endUserId: string, options: { appId?: string; limit?: number } = {}): Promise<Conversation[]> {
    let query = this.db.selectFrom('conversations').selectAll().where('end_user_id', '=', endUserId);
    if (options.appId !== undefined) query = query.where('app_id', '=', options.appId);
    const rows = await query.orderBy('updated_at', 'desc').orderBy('id').limit(options.limit ?? 200).execute();
    return rows.map(toConversation);
  }

  async update(id: string, changes: { title?: string; model?: string | null }): Promise<void> {
    await this.db.updateTable('conversations').set({ ...changes, updated_at: this.now() }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Explicit rather than by cascade, so the SQLite FTS triggers see every row go.
      await trx.deleteFrom('messages').where('conversation_id', '=', id).execute();
      await trx.deleteFrom('conversations').where('id', '=', id).execute();
    });
  }

  async messages(conversationId: string): Promise<Message[]> {
    const rows = await this.db
      .selectFrom('messages')
      .select(messageColumns)
      .where('conversation_id', '=', conversationId)
      .orderBy('id')
      .execute();
    return rows.map(toMessage);
  }

  async message(id: number): Promise<Message | undefined> {
    const row = await this.db.selectFrom('messages').select(messageColumns).where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }

  /** The conversation's latest assistant message: the reply a reconnecting page wants. */
  async lastReply(conversationId: string): Promise<Message | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select(messageColumns)
      .where('conversation_id', '=', conversationId)
      .where('role', '=', 'assistant')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }

  async append(
    conversationId: string,
    input: { role: MessageRole; content: string; status: MessageStatus; model?: string | null },
  ): Promise<Message> {
    const now = this.now();
    const values = {
      conversation_id: conversationId,
      role: input.role,
      content: input.content,
      search_text: searchText(input.content),
      status: input.status,
      error_code: null,
      model: input.model ?? null,
      prompt_tokens: 0,
      completion_tokens: 0,
      created_at: now,
    };
    const { id } = await this.db.insertInto('messages').values(values).returning('id').executeTakeFirstOrThrow();
    await this.db.updateTable('conversations').set({ updated_at: now }).where('id', '=', conversationId).execute();
    return toMessage({ id, ...values });
  }

  async finish(id: number, outcome: MessageOutcome): Promise<Message> {
    const row = await this.db
      .updateTable('messages')
      .set({
        content: outcome.content,
        search_text: searchText(outcome.content),
        status: outcome.status,
        error_code: outcome.errorCode ?? null,
        ...(outcome.model === undefined ? {} : { model: outcome.model }),
        prompt_tokens: outcome.promptTokens ?? 0,
        completion_tokens: outcome.completionTokens ?? 0,
      })
      .where('id', '=', id)
      .returning(messageColumns)
      .executeTakeFirstOrThrow();
    return toMessage(row);
  }

  /** Deletes the message and every later one of its conversation (edit and regenerate). */
  async truncateFrom(conversationId: string, messageId: number): Promise<void> {
    await this.db.deleteFrom('messages').where('conversation_id', '=', conversationId).where('id', '>=', messageId).execute();
  }

  /**
   * Replies left 'streaming' by a process that stopped mid-answer can never finish: show
   * them as stopped. Only for a store no other live process writes to (SQLite).
   */
  async stopOrphanedReplies(): Promise<number> {
    const result = await this.db
      .updateTable('messages')
      .set({ status: 'stopped', error_code: 'interrupted' })
      .where('status', '=', 'streaming')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

function toConversation(row: Selectable<Database['conversations']>): Conversation {
  return {
    id: row.id,
    endUserId: row.end_user_id,
    appId: row.app_id,
    title: row.title,
    model: row.model,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toMessage(row: Omit<Selectable<MessagesTable>, 'search_text'> & { search_text?: string }): Message {
  return {
    id: Number(row.id),
    conversationId: row.conversation_id,
    role: row.role,
    content: row.content,
    status: row.status,
    errorCode: row.error_code,
    model: row.model,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    createdAt: Number(row.created_at),
  };
}
