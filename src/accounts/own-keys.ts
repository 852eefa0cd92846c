/**
 * A tenant's members manage their own API keys with a key of theirs (`/v1/keys`), as the
 * console does. Limits stay the operator's to grant: a key may only make keys no looser
 * than itself — within its own RPM/TPM, and only a key allowed every model may make keys
 * at all (a scoped key minting an unscoped one would widen its own access).
 */
import { SkylarkError } from '../core/errors.js';
import { createKeyBody } from '../contracts/admin-requests.js';
import type { ApiKeyObject } from '../contracts/admin-responses.js';
import { parseRequest } from '../contracts/parse.js';
import type { Principal } from '../tenancy/access.js';
import type { AccountDeps } from './accounts.js';
import { apiKeyView } from './account-views.js';
import { createKey, listKeys } from './admin-tenancy.js';

export function listOwnKeys(deps: AccountDeps, principal: Principal) {
  return listKeys(deps, principal.tenantId);
}

export async function createOwnKey(deps: AccountDeps, principal: Principal, body: unknown): Promise<ApiKeyObject & { key: string }> {
  if (principal.scopes.length > 0) {
    throw new SkylarkError('permission_denied', 'This API key is limited to some models, so it may not create keys; use a key allowed every model.');
  }
  const request = parseRequest(createKeyBody, body ?? {});
  const own = principal.limits;
  if (own) {
    for (const field of ['rpm', 'tpm'] as const) {
      const asked = request[field];
      // Unsaid, a limit is the usual default, or the calling key's own when that is lower.
      if (asked === undefined) request[field] = Math.min(field === 'rpm' ? 60 : 100_000, own[field]);
      else if (asked > own[field]) {
        throw new SkylarkError('invalid_request', `A new key's ${field} may not exceed this key's own (${own[field]}); the operator can grant more.`, {
          param: field,
        });
      }
    }
  }
  return createKey(deps, principal.tenantId, request);
}

export async function revokeOwnKey(deps: AccountDeps, principal: Principal, keyId: string): Promise<ApiKeyObject> {
  const key = await deps.accounts.keys.get(keyId);
  // Another tenant's key answers exactly like one that does not exist.
  if (key === undefined || key.tenantId !== principal.tenantId) throw new SkylarkError('not_found', `No API key with id '${keyId}'.`, { param: 'id' });
  await deps.accounts.keys.revoke(keyId);
  return apiKeyView((await deps.accounts.keys.get(keyId))!);
}
