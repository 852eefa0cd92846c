/** Small builders shared by the ledger tests. */
import { randomUUID } from 'node:crypto';
import { Ledger } from '../../src/billing/ledger.js';
import type { Settlement } from '../../src/billing/settlement.js';
import { Tenants } from '../../src/tenancy/tenants.js';
import type { Store } from '../../src/store/database.js';

export async function tenantWith(store: Store, balanceMicros: number, options: { unlimited?: boolean } = {}) {
  const tenant = await new Tenants(store.db).create({ name: `t-${randomUUID().slice(0, 8)}`, unlimited: options.unlimited });
  const ledger = new Ledger(store.db);
  if (balanceMicros > 0) await ledger.topUp(tenant.id, balanceMicros, 'initial');
  return tenant;
}

export function settlement(tenantId: string, costMicros: number, overrides: Partial<Settlement> = {}): Settlement {
  return {
    requestId: `req-${randomUUID()}`,
    tenantId,
    modelId: 'doubao-pro',
    usage: { promptTokens: 1000, cachedPromptTokens: 200, completionTokens: 500 },
    priceId: null,
    costMicros,
    queueMs: 3,
    generationMs: 120,
    status: 'ok',
    ...overrides,
  };
}
