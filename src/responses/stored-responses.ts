/**
 * The Responses API's stored objects: one row per response a tenant asked to keep
 * (`store`, true by default). Every read and delete names the tenant, so another tenant's
 * id is indistinguishable from a missing one. Items are kept as the JSON the API speaks;
 * this room does not interpret them.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, StoredResponsesTable } from '../store/schema.js';

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
  constructor(private readonly db: Kysely<Database>) {}

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
    return row === undefined ? undefined : fromRow(row);
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
