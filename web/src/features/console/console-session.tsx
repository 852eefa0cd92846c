/**
 * Who the pasted key is: its tenant, and whether it is the operator's admin key. The key
 * lives in sessionStorage only (gone with the tab, never sent anywhere but this origin's
 * API). An admin looks at one tenant at a time; a tenant key only ever sees its own.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { TenantObject } from '../../../../src/contracts/admin-responses.js';
import { ApiError } from '../../api/client.js';
import { ConsoleApi } from './console-api.js';

const keyStorage = 'skylark.console.key';
const tenantStorage = 'skylark.console.tenant';

export interface Identity {
  /** The key's own tenant (the operator tenant for the admin key). */
  tenantId: string;
  admin: boolean;
}

interface ConsoleSession {
  api: ConsoleApi;
  identity: Identity;
  /** The tenant the pages show: the key's own, or the one an admin picked. */
  tenantId: string;
  /** tenant_id to pass to /v1 reads: only an admin names one. */
  scope: string | undefined;
  setTenantId(id: string): void;
  /** Admin only; empty for a tenant key. */
  tenants: TenantObject[];
  reloadTenants(): Promise<void>;
  signOut(): void;
}

const SessionContext = createContext<ConsoleSession | null>(null);

/** The session, or null outside one (the key form). */
export function useOptionalConsole(): ConsoleSession | null {
  return useContext(SessionContext);
}

export function useConsole(): ConsoleSession {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useConsole outside ConsoleSessionProvider');
  return session;
}

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // blocked: the key lives as long as the page
  }
}

export function storedKey(): string | null {
  return storage()?.getItem(keyStorage) ?? null;
}

/** Checks a key against the API: /v1/balance says whose it is; /admin answers only the operator. */
export async function identify(api: ConsoleApi): Promise<{ identity: Identity; tenants: TenantObject[] }> {
  const balance = await api.balance();
  try {
    const tenants = await api.tenants();
    return { identity: { tenantId: balance.tenant_id, admin: true }, tenants };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'permission_denied') return { identity: { tenantId: balance.tenant_id, admin: false }, tenants: [] };
    throw error;
  }
}

export function rememberKey(key: string): void {
  storage()?.setItem(keyStorage, key);
}

export function forgetKey(): void {
  storage()?.removeItem(keyStorage);
  storage()?.removeItem(tenantStorage);
}

interface ProviderProps {
  apiKey: string;
  identity: Identity;
  initialTenants: TenantObject[];
  onSignOut: () => void;
  children: ReactNode;
}

export function ConsoleSessionProvider({ apiKey, identity, initialTenants, onSignOut, children }: ProviderProps) {
  const api = useMemo(() => new ConsoleApi(apiKey), [apiKey]);
  const [tenants, setTenants] = useState(initialTenants);
  const [picked, setPicked] = useState(() => (identity.admin ? storage()?.getItem(tenantStorage) : null) ?? identity.tenantId);
  const tenantId = identity.admin ? picked : identity.tenantId;

  const reloadTenants = useCallback(async () => {
    if (identity.admin) setTenants(await api.tenants());
  }, [api, identity.admin]);
  const setTenantId = useCallback((id: string) => {
    storage()?.setItem(tenantStorage, id);
    setPicked(id);
  }, []);
  // A remembered tenant that no longer exists falls back to the key's own.
  useEffect(() => {
    if (identity.admin && tenants.length > 0 && !tenants.some((t) => t.id === picked)) setPicked(identity.tenantId);
  }, [identity, tenants, picked]);

  const value = useMemo<ConsoleSession>(
    () => ({
      api,
      identity,
      tenantId,
      scope: identity.admin ? tenantId : undefined,
      setTenantId,
      tenants,
      reloadTenants,
      signOut: onSignOut,
    }),
    [api, identity, tenantId, setTenantId, tenants, reloadTenants, onSignOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
