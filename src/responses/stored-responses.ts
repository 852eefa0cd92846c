/**
 * The Responses API's stored objects: one row per response a tenant asked to keep
 * (`store`, true by default). Every read and delete names the tenant, so another tenant's
 * id is indistinguishable from a missing one. Items are kept as the JSON the API speaks;
 * this room does not interpret them.
 *
 * Rows are kept for a retention period (OpenAI keeps responses 30 days): past it a row
 * reads as missing at once, and `sweep` deletes it later, so disk use has a ceiling set by
 * traffic × retention rather than growing forever.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Database, StoredResponsesTable } from '../store/schema.js';

export interface Retention {
  /** How long a stored response stays readable, ms; `null` keeps them forever. */
  retentionMs: number | null;
  clock: Clock;
}

export type JsonObject = Record<string, unknown>;

export interface StoredResponse {
  id: string;
  tenantId: string;
  model: string;
  status: string;
  previousResponseId: string | null;
  /** Every input item the model saw, earlier turns first. */
  inputItems: JsonObject[];
  outputItems: JsonObject[];
  /** The Response object as sent, without `output` (that is `outputItems`). */
  response: JsonObject;
  /** Epoch ms. */
  createdAt: number;
}

export class StoredResponses {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly retention: Retention,
  ) {}

  /** Epoch ms before which a row is expired; -Infinity when rows are kept forever. */
  private expiredBefore(): number {
    const { retentionMs, clock } = this.retention;
    return retentionMs === null ? Number.NEGATIVE_INFINITY : clock.wallNow().getTime() - retentionMs;
  }

  async save(stored: StoredResponse): Promise<void> {
    await this.db
      .insertInto('stored_responses')
      .values({
        id: stored.id,
        tenant_id: stored.tenantId,
        model: stored.model,
        status: stored.status,
        previous_response_id: stored.previousResponseId,
        input_items: JSON.stringify(stored.inputItems),
        output_items: JSON.stringify(stored.outputItems),
        response: JSON.stringify(stored.response),
        created_at: stored.createdAt,
      })
      .execute();
  }

  async get(tenantId: string, id: string): Promise<StoredResponse | undefined> {
    const row = await this.db
      .selectFrom('stored_responses')
      .selectAll()
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    // An expired row the sweep has not reached yet is already gone for the API.
    if (row === undefined || Number(row.created_at) < this.expiredBefore()) return undefined;
    return fromRow(row);
  }

  /** True when a response of this tenant's was deleted. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('stored_responses')
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Deletes expired rows, at most `batch` per statement so a long backlog never holds the
   * database (SQLite's single writer) for long; returns how many went.
   */
  async sweep(batch = 500): Promise<number> {
    const before = this.expiredBefore();
    if (before === Number.NEGATIVE_INFINITY) return 0;
    let removed = 0;
    for (;;) {
      const ids = this.db.selectFrom('stored_responses').select('id').where('created_at', '<', before).limit(batch);
      const result = await this.db.deleteFrom('stored_responses').where('id', 'in', ids).executeTakeFirst();
      const count = Number(result.numDeletedRows);
      removed += count;
      if (count < batch) return removed;
    }
  }
}

function fromRow(row: Selectable<StoredResponsesTable>): StoredResponse {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    model: row.model,
    status: row.status,
    previousResponseId: row.previous_response_id,
    inputItems: JSON.parse(row.input_items) as JsonObject[],
    outputItems: JSON.parse(row.output_items) as JsonObject[],
    response: JSON.parse(row.response) as JsonObject,
    createdAt: Number(row.created_at),
  };
}
