/**
 * API keys. The key is shown once, at creation; only its sha256 is stored (a key is 190+
 * random bits, so a fast hash is enough — no password-style stretching needed), plus its
 * first characters so people can tell their keys apart in lists.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { newId } from '../core/ids.js';
import type { ApiKeysTable, Database } from '../store/schema.js';
import { billingId } from '../core/row-ids.js';
import { toTenant, type Tenant } from './tenants.js';

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  /** Allowed model ids / endpoint ids; empty = all. */
  scopes: string[];
  rpm: number;
  tpm: number;
  monthlyBudgetMicros: number | null;
  expiresAt: number | null;
  revokedAt: number | null;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface NewApiKey {
  tenantId: string;
  name: string;
  scopes?: string[];
  rpm?: number;
  tpm?: number;
  monthlyBudgetMicros?: number | null;
  expiresAt?: number | null;
}

export type AuthResult =
  | { ok: true; apiKey: ApiKey; tenant: Tenant }
  | { ok: false; reason: 'unknown_key' | 'revoked' | 'expired' | 'tenant_suspended' };

const PREFIX_LENGTH = 12;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class ApiKeys {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates a key; `key` is the only time the secret exists outside the client. */
  async create(input: NewApiKey): Promise<{ apiKey: ApiKey; key: string }> {
    const key = `sk-${newId('sky', 40)}`; // sk-sky-… : 40 base62 ≈ 238 bits
    const row: Selectable<ApiKeysTable> = {
      id: billingId('key', 16),
      tenant_id: input.tenantId,
      name: input.name,
      prefix: key.slice(0, PREFIX_LENGTH),
      hash: hashApiKey(key),
      scopes: JSON.stringify(input.scopes ?? []),
      rpm: input.rpm ?? 60,
      tpm: input.tpm ?? 100_000,
      monthly_budget_micros: input.monthlyBudgetMicros ?? null,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      created_at: this.now(),
      last_used_at: null,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return { apiKey: toApiKey(row), key };
  }

  /** Looks a presented key up by hash and checks it may be used now. */
  async authenticate(key: string): Promise<AuthResult> {
    const row = await this.db
      .selectFrom('api_keys')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
      .selectAll('api_keys')
      .select([
        'tenants.name as t_name',
        'tenants.status as t_status',
        'tenants.currency as t_currency',
        'tenants.tier as t_tier',
        'tenants.unlimited as t_unlimited',
        'tenants.created_at as t_created_at',
      ])
      .where('api_keys.hash', '=', hashApiKey(key))
      .executeTakeFirst();
    if (row === undefined) return { ok: false, reason: 'unknown_key' };
    const apiKey = toApiKey(row);
    if (apiKey.revokedAt !== null) return { ok: false, reason: 'revoked' };
    if (apiKey.expiresAt !== null && apiKey.expiresAt <= this.now()) return { ok: false, reason: 'expired' };
    const tenant = toTenant({
      id: row.tenant_id,
      name: row.t_name,
      status: row.t_status,
      currency: row.t_currency,
      tier: row.t_tier,
      unlimited: row.t_unlimited,
      created_at: row.t_created_at,
    });
    if (tenant.status !== 'active') return { ok: false, reason: 'tenant_suspended' };
    return { ok: true, apiKey, tenant };
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toApiKey(row);
  }

  async list(tenantId: string): Promise<ApiKey[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toApiKey);
  }

  /** Revokes at once; false if unknown or already revoked. */
  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: this.now() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records use; callers should throttle this (e.g. once a minute per key), it is a write. */
  async touch(id: string, at: number = this.now()): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}

function toApiKey(row: Selectable<ApiKeysTable>): ApiKey {
  const nullable = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as string[],
    rpm: Number(row.rpm),
    tpm: Number(row.tpm),
    monthlyBudgetMicros: nullable(row.monthly_budget_micros),
    expiresAt: nullable(row.expires_at),
    revokedAt: nullable(row.revoked_at),
    createdAt: Number(row.created_at),
    lastUsedAt: nullable(row.last_used_at),
  };
}
