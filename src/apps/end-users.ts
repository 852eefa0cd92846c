/**
 * End users of the web app and their sessions. A session token is 256 random bits that
 * live only in the browser's cookie; the database keeps its SHA-256, so a leaked database
 * holds no usable sessions (the tokens are random enough that no stretching is needed).
 */
import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { randomString } from '../core/ids.js';
import { billingId } from '../core/row-ids.js';
import type { Database, EndUserKind, EndUsersTable } from '../store/schema.js';

export interface EndUser {
  id: string;
  username: string | null;
  kind: EndUserKind;
  createdAt: number;
}

export interface SessionPolicy {
  memberTtlMs: number;
  guestTtlMs: number;
}

export const defaultSessionPolicy: SessionPolicy = {
  memberTtlMs: 30 * 24 * 3600_000,
  guestTtlMs: 7 * 24 * 3600_000,
};

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class EndUsers {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
    private readonly policy: SessionPolicy = defaultSessionPolicy,
  ) {}

  /** Returns undefined when the username is taken. */
  async createMember(username: string, passwordHash: string): Promise<EndUser | undefined> {
    const row = this.row('member', username.toLowerCase(), passwordHash);
    const inserted = await this.db
      .insertInto('end_users')
      .values(row)
      .onConflict((oc) => oc.column('username').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1 ? toEndUser(row) : undefined;
  }

  /**
   * A guest who signs up keeps their conversations: the guest row becomes the member.
   * Returns undefined when the username is taken.
   */
  async promoteGuest(guestId: string, username: string, passwordHash: string): Promise<EndUser | undefined> {
    const name = username.toLowerCase();
    try {
      const row = await this.db
        .updateTable('end_users')
        .set({ username: name, password_hash: passwordHash, kind: 'member' })
        .where('id', '=', guestId)
        .where('kind', '=', 'guest')
        .returning(['id', 'username', 'kind', 'created_at'])
        .executeTakeFirst();
      return row === undefined ? undefined : toEndUser(row);
    } catch (error) {
      if (await this.db.selectFrom('end_users').select('id').where('username', '=', name).executeTakeFirst()) return undefined;
      throw error;
    }
  }

  async createGuest(): Promise<EndUser> {
    const row = this.row('guest', null, null);
    await this.db.insertInto('end_users').values(row).execute();
    return toEndUser(row);
  }

  async credentials(username: string): Promise<{ user: EndUser; passwordHash: string } | undefined> {
    const row = await this.db
      .selectFrom('end_users')
      .selectAll()
      .where('username', '=', username.toLowerCase())
      .executeTakeFirst();
    if (row?.password_hash == null) return undefined;
    return { user: toEndUser(row), passwordHash: row.password_hash };
  }

  /** A new session for the user; the returned token is the only copy. */
  async openSession(user: EndUser): Promise<{ token: string; expiresAt: number }> {
    const token = randomString(43);
    const now = this.now();
    const expiresAt = now + (user.kind === 'guest' ? this.policy.guestTtlMs : this.policy.memberTtlMs);
    await this.db
      .insertInto('end_user_sessions')
      .values({ id: digest(token), end_user_id: user.id, expires_at: expiresAt, created_at: now })
      .execute();
    return { token, expiresAt };
  }

  async sessionUser(token: string): Promise<EndUser | undefined> {
    const row = await this.db
      .selectFrom('end_user_sessions as s')
      .innerJoin('end_users as u', 'u.id', 's.end_user_id')
      .select(['u.id', 'u.username', 'u.password_hash', 'u.kind', 'u.created_at', 's.expires_at'])
      .where('s.id', '=', digest(token))
      .executeTakeFirst();
    if (row === undefined || Number(row.expires_at) <= this.now()) return undefined;
    return toEndUser(row);
  }

  async closeSession(token: string): Promise<void> {
    await this.db.deleteFrom('end_user_sessions').where('id', '=', digest(token)).execute();
  }

  /** Expired sessions are refused on sight; this only keeps the table small. */
  async pruneSessions(): Promise<number> {
    const result = await this.db.deleteFrom('end_user_sessions').where('expires_at', '<=', this.now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private row(kind: EndUserKind, username: string | null, passwordHash: string | null): Selectable<EndUsersTable> {
    return { id: billingId('usr'), username, password_hash: passwordHash, kind, created_at: this.now() };
  }
}

function toEndUser(row: Pick<Selectable<EndUsersTable>, 'id' | 'username' | 'kind' | 'created_at'>): EndUser {
  return { id: row.id, username: row.username, kind: row.kind, createdAt: Number(row.created_at) };
}
