/**
 * Tenants: who pays. Creating one also creates its balance row, in the same transaction,
 * so every ledger write can assume the row exists.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Currency, Database, TenantStatus, TenantsTable, TenantTier } from '../store/schema.js';
import { billingId } from '../core/row-ids.js';

export interface Tenant {
  id: string;
  name: string;
  status: TenantStatus;
  currency: Currency;
  tier: TenantTier;
  /** Operator/internal tenants: holds never fail for lack of balance. */
  unlimited: boolean;
  createdAt: number;
}

export interface NewTenant {
  name: string;
  currency?: Currency;
  tier?: TenantTier;
  unlimited?: boolean;
  /** Default: a fresh `ten_…` id. */
  id?: string;
}

export class Tenants {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: NewTenant): Promise<Tenant> {
    const now = this.now();
    const row: Selectable<TenantsTable> = {
      id: input.id ?? billingId('ten'),
      name: input.name,
      status: 'active',
      currency: input.currency ?? 'CNY',
      tier: input.tier ?? 'standard',
      unlimited: input.unlimited === true ? 1 : 0,
      created_at: now,
    };
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('tenants').values(row).execute();
      await trx
        .insertInto('tenant_balances')
        .values({ tenant_id: row.id, balance_micros: 0, reserved_micros: 0, updated_at: now })
        .execute();
    });
    return toTenant(row);
  }

  async get(id: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toTenant(row);
  }

  async list(): Promise<Tenant[]> {
    return (await this.db.selectFrom('tenants').selectAll().orderBy('created_at').orderBy('id').execute()).map(toTenant);
  }

  /** Returns false when there is no such tenant. */
  async setStatus(id: string, status: TenantStatus): Promise<boolean> {
    const result = await this.db.updateTable('tenants').set({ status }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async update(id: string, changes: { name?: string; tier?: TenantTier; unlimited?: boolean }): Promise<boolean> {
    const set: Partial<Selectable<TenantsTable>> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.tier !== undefined) set.tier = changes.tier;
    if (changes.unlimited !== undefined) set.unlimited = changes.unlimited ? 1 : 0;
    if (Object.keys(set).length === 0) return (await this.get(id)) !== undefined;
    const result = await this.db.updateTable('tenants').set(set).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

export function toTenant(row: Selectable<TenantsTable>): Tenant {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    currency: row.currency,
    tier: row.tier,
    unlimited: Number(row.unlimited) === 1,
    createdAt: Number(row.created_at),
  };
}
