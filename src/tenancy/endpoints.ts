/**
 * Endpoints, as Volcano Ark has them: a named, rate-limited handle on a model
 * (`ep-20250101123045-ab1cd`). A tenant's own, or a shared preset (tenant_id NULL).
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, EndpointStatus, EndpointsTable } from '../store/schema.js';
import { endpointId } from '../core/row-ids.js';

export interface Endpoint {
  id: string;
  tenantId: string | null;
  name: string;
  modelId: string;
  rpm: number;
  tpm: number | null;
  status: EndpointStatus;
  createdAt: number;
  /** Models to serve it with when its own cannot meet a deadline; empty = the model's own chain. */
  fallbacks: string[];
}

export interface NewEndpoint {
  tenantId: string | null;
  name: string;
  modelId: string;
  rpm?: number;
  tpm?: number | null;
  fallbacks?: string[];
  id?: string;
}

export class Endpoints {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: NewEndpoint): Promise<Endpoint> {
    const now = this.now();
    const row: Selectable<EndpointsTable> = {
      id: input.id ?? endpointId(new Date(now)),
      tenant_id: input.tenantId,
      name: input.name,
      model_id: input.modelId,
      rpm: input.rpm ?? 60,
      tpm: input.tpm ?? null,
      status: 'started',
      created_at: now,
      fallbacks: JSON.stringify(input.fallbacks ?? []),
    };
    await this.db.insertInto('endpoints').values(row).execute();
    return toEndpoint(row);
  }

  async get(id: string): Promise<Endpoint | undefined> {
    const row = await this.db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toEndpoint(row);
  }

  /** Every endpoint, oldest first: the operator's view. */
  async list(): Promise<Endpoint[]> {
    const rows = await this.db.selectFrom('endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toEndpoint);
  }

  /** What a tenant may call: its own endpoints and the shared presets. */
  async visibleTo(tenantId: string): Promise<Endpoint[]> {
    const rows = await this.db
      .selectFrom('endpoints')
      .selectAll()
      .where((eb) => eb.or([eb('tenant_id', '=', tenantId), eb('tenant_id', 'is', null)]))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toEndpoint);
  }

  async setStatus(id: string, status: EndpointStatus): Promise<boolean> {
    const result = await this.db.updateTable('endpoints').set({ status }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

function toEndpoint(row: Selectable<EndpointsTable>): Endpoint {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    modelId: row.model_id,
    rpm: Number(row.rpm),
    tpm: row.tpm === null ? null : Number(row.tpm),
    status: row.status,
    createdAt: Number(row.created_at),
    fallbacks: JSON.parse(row.fallbacks) as string[],
  };
}
