import type { Kysely } from 'kysely';
import { ApiKeys, type NewApiKey } from '../../src/tenancy/api-keys.js';
import { Tenants } from '../../src/tenancy/tenants.js';
import type { Database } from '../../src/store/schema.js';

/** A fresh tenant and one key for it, straight in the database the platform uses. */
export async function tenantWithKey(db: Kysely<Database>, options: Omit<NewApiKey, 'tenantId' | 'name'> = {}) {
  const tenant = await new Tenants(db).create({ name: `t-${Math.random()}` });
  const { key, apiKey } = await new ApiKeys(db).create({ tenantId: tenant.id, name: 'test', ...options });
  return { tenant, key, apiKey };
}
