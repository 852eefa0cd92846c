import { hash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { SkylarkError } from '../core/errors.js';
import type { ApiKeys } from './api-keys.js';
import type { TenantTier } from '../store/schema.js';

/** Who is asking: the tenant that pays, through which key. */
export interface Principal {
  tenantId: string;
  /** null for the operator's admin key. */
  keyId: string | null;
  operator: boolean;
  /** Model ids the key may use; empty = all. */
  scopes: string[];
  /** The key's limits; null for the operator, who is not rate limited. */
  limits: { rpm: number; tpm: number } | null;
  /** The key's spending ceiling per UTC month, in micro-units; null = none. */
  monthlyBudgetMicros: number | null;
  /** The tenant's scheduling tier: priority, standard or free. */
  tier: TenantTier;
}

export const operatorTenantId = 'ten_operator';

/** How long an answer about a key is trusted: revocation reaches every gateway within this. */
const cacheMs = 1000;

/**
 * Bearer key → principal. The admin key is the built-in operator tenant; every other key
 * is looked up by its SHA-256 and cached for at most a second, so the database sees at
 * most one lookup per key per second however hot the key is.
 */
export class KeyAccess {
  private readonly adminDigest: Buffer;
  private readonly cache = new Map<string, { expires: number; result: Principal | SkylarkError }>();

  constructor(
    adminKey: string,
    private readonly keys: ApiKeys,
    private readonly clock: Clock,
  ) {
    this.adminDigest = digest(adminKey);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const key = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    if (!key) {
      throw new SkylarkError(
        'invalid_api_key',
        "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'.",
      );
    }
    const keyDigest = digest(key);
    if (timingSafeEqual(keyDigest, this.adminDigest)) {
      return { tenantId: operatorTenantId, keyId: null, operator: true, scopes: [], limits: null, monthlyBudgetMicros: null, tier: 'priority' };
    }
    const cacheKey = keyDigest.toString('hex');
    const now = this.clock.now();
    let cached = this.cache.get(cacheKey);
    if (!cached || cached.expires <= now) {
      cached = { expires: now + cacheMs, result: await this.lookUp(key) };
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(cacheKey, cached);
    }
    if (cached.result instanceof SkylarkError) throw cached.result;
    return cached.result;
  }

  private async lookUp(key: string): Promise<Principal | SkylarkError> {
    const result = await this.keys.authenticate(key);
    if (result.ok) {
      const { apiKey } = result;
      return {
        tenantId: result.tenant.id,
        keyId: apiKey.id,
        operator: false,
        scopes: apiKey.scopes,
        limits: { rpm: apiKey.rpm, tpm: apiKey.tpm },
        monthlyBudgetMicros: apiKey.monthlyBudgetMicros,
        tier: result.tenant.tier,
      };
    }
    const why = {
      unknown_key: `Incorrect API key provided: ${redact(key)}.`,
      revoked: 'This API key has been revoked.',
      expired: 'This API key has expired.',
      tenant_suspended: "This API key's account is suspended.",
    }[result.reason];
    return new SkylarkError('invalid_api_key', why);
  }
}

/** One-shot hash: no Hash object per request. */
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

function redact(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}****${key.slice(-4)}`;
}
