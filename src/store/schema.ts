/**
 * The row types of every table, as Kysely sees them. Column names are the SQL ones
 * (snake_case); repositories in src/billing map them to the camelCase domain types.
 *
 * Conventions shared by both dialects (see migrations/001-initial.ts):
 * - money is an integer count of micro-units of the row's currency (1 yuan = 1,000,000);
 * - times are integer milliseconds since the Unix epoch (no SQL timestamp types, so no
 *   timezone or dialect drift);
 * - booleans are integers 0/1 (SQLite has no boolean type);
 * - JSON is stored as text and parsed by the repository that owns the column.
 */
import type { ColumnType, Generated } from 'kysely';

export type Currency = 'CNY' | 'USD';
export type TenantStatus = 'active' | 'suspended';
export type TenantTier = 'priority' | 'standard' | 'free';
export type EndpointStatus = 'started' | 'stopped';
export type LedgerKind = 'topup' | 'redeem' | 'usage' | 'adjustment' | 'refund';
export type UsageStatus = 'ok' | 'aborted' | 'error';

export interface TenantsTable {
  id: string;
  name: string;
  status: TenantStatus;
  currency: Currency;
  tier: TenantTier;
  /** 1 = operator/internal tenant: reservations never fail for lack of balance. */
  unlimited: ColumnType<number, number | undefined, number>;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  /** The first characters of the key, safe to show in lists. */
  prefix: string;
  /** sha256 hex of the whole key; the key itself is never stored. */
  hash: string;
  /** JSON array of allowed model ids / endpoint ids; `[]` = everything. */
  scopes: string;
  rpm: number;
  tpm: number;
  monthly_budget_micros: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
  last_used_at: number | null;
}

export interface EndpointsTable {
  id: string;
  /** null = a shared preset endpoint every tenant may call. */
  tenant_id: string | null;
  name: string;
  model_id: string;
  rpm: number;
  tpm: number | null;
  status: EndpointStatus;
  created_at: number;
}

export interface PricesTable {
  id: string;
  model_id: string;
  version: number;
  currency: Currency;
  input_per_m_micros: number;
  cached_input_per_m_micros: number;
  output_per_m_micros: number;
  batch_discount_pct: number;
  /** JSON array of prompt-length tiers, `[]` when the flat rates apply. */
  tiers: string;
  effective_from: number;
  created_at: number;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  tenant_id: string;
  kind: LedgerKind;
  /** Signed: credits positive, usage negative. */
  amount_micros: number;
  ref: string;
  created_at: number;
}

export interface TenantBalancesTable {
  tenant_id: string;
  balance_micros: number;
  reserved_micros: number;
  updated_at: number;
}

export interface UsageRecordsTable {
  request_id: string;
  tenant_id: string;
  api_key_id: string | null;
  endpoint_id: string | null;
  model_id: string;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  price_id: string | null;
  cost_micros: number;
  queue_ms: number;
  generation_ms: number;
  status: UsageStatus;
  batch: number;
  created_at: number;
}

export interface ReservationsTable {
  /** The request id. */
  id: string;
  tenant_id: string;
  api_key_id: string | null;
  amount_micros: number;
  /** The gateway instance holding it; recovery releases holds of dead owners. */
  owner: string;
  created_at: number;
}

export interface RedeemCodesTable {
  id: string;
  code_hash: string;
  amount_micros: number;
  currency: Currency;
  expires_at: number | null;
  redeemed_by: string | null;
  redeemed_at: number | null;
  created_at: number;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  endpoints: EndpointsTable;
  prices: PricesTable;
  ledger_entries: LedgerEntriesTable;
  tenant_balances: TenantBalancesTable;
  usage_records: UsageRecordsTable;
  reservations: ReservationsTable;
  redeem_codes: RedeemCodesTable;
}
