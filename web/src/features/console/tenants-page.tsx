/** Tenants (admin): create, change tier, suspend and reactivate, and pick one to look at. */
import { useState } from 'react';
import type { TenantObject } from '../../../../src/contracts/admin-responses.js';
import { useI18n } from '../../i18n/i18n.js';
import { navigate } from '../../router.js';
import type { Tier } from './console-api.js';
import { useConsole } from './console-session.js';
import { DataTable, formatSeconds, PageTitle, Problem, useAction } from './console-ui.js';

const tiers: Tier[] = ['priority', 'standard', 'free'];

export function TenantsPage() {
  const { t, lang } = useI18n();
  const { api, tenants, reloadTenants, tenantId, setTenantId } = useConsole();
  const [error, setError] = useState<unknown>(null);
  const change = async (action: () => Promise<unknown>) => {
    try {
      await action();
      await reloadTenants();
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  };
  const update = (tenant: TenantObject, body: { tier?: Tier; status?: 'active' | 'suspended' }) => change(() => api.updateTenant(tenant.id, body));

  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.tenants')}</PageTitle>
      <CreateTenantForm
        onCreate={async (body) => {
          const made = await api.createTenant(body);
          await reloadTenants();
          setTenantId(made.id);
        }}
      />
      {error ? <Problem error={error} /> : null}
      <DataTable
        testId="tenants"
        columns={[
          t('console.keys.name'),
          t('console.tenants.id'),
          t('console.queue.tier'),
          t('console.keys.status'),
          t('console.tenants.currency'),
          t('console.created'),
        ]}
        actions
      >
        {tenants.map((tenant) => (
          <tr key={tenant.id} data-tenant-id={tenant.id} aria-current={tenant.id === tenantId ? 'true' : undefined}>
            <td>
              {tenant.name}
              {tenant.unlimited && <span className="tag">{t('console.balance.unlimited')}</span>}
            </td>
            <td className="mono">{tenant.id}</td>
            <td>
              <select
                aria-label={t('console.tenants.tierOf', { name: tenant.name })}
                value={tenant.tier}
                onChange={(event) => void update(tenant, { tier: event.target.value as Tier })}
              >
                {tiers.map((tier) => (
                  <option key={tier} value={tier}>
                    {t(`console.tier.${tier}`)}
                  </option>
                ))}
              </select>
            </td>
            <td data-testid="tenant-status">{tenant.status === 'active' ? t('console.tenants.active') : t('console.tenants.suspended')}</td>
            <td>{tenant.currency}</td>
            <td>{formatSeconds(tenant.created_at, lang)}</td>
            <td className="row">
              <button
                type="button"
                className="small secondary"
                onClick={() => {
                  setTenantId(tenant.id);
                  navigate('/console/usage');
                }}
              >
                {t('console.tenants.view')}
              </button>
              <button
                type="button"
                className={tenant.status === 'active' ? 'small danger' : 'small'}
                onClick={() => void update(tenant, { status: tenant.status === 'active' ? 'suspended' : 'active' })}
              >
                {tenant.status === 'active' ? t('console.tenants.suspend') : t('console.tenants.reactivate')}
              </button>
            </td>
          </tr>
        ))}
      </DataTable>
    </div>
  );
}

function CreateTenantForm({ onCreate }: { onCreate: (body: { name: string; tier: Tier; currency: 'CNY' | 'USD' }) => Promise<void> }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [tier, setTier] = useState<Tier>('standard');
  const [currency, setCurrency] = useState<'CNY' | 'USD'>('CNY');
  const { working, error, run } = useAction();
  return (
    <form
      className="card console-form"
      aria-label={t('console.tenants.create')}
      onSubmit={(event) => {
        event.preventDefault();
        void run(async () => {
          await onCreate({ name, tier, currency });
          setName('');
        });
      }}
    >
      <h2>{t('console.tenants.create')}</h2>
      <div className="form-grid">
        <label>
          {t('console.keys.name')}
          <input name="tenant-name" value={name} onChange={(event) => setName(event.target.value)} required maxLength={200} />
        </label>
        <label>
          {t('console.queue.tier')}
          <select name="tenant-tier" value={tier} onChange={(event) => setTier(event.target.value as Tier)}>
            {tiers.map((option) => (
              <option key={option} value={option}>
                {t(`console.tier.${option}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('console.tenants.currency')}
          <select name="tenant-currency" value={currency} onChange={(event) => setCurrency(event.target.value as 'CNY' | 'USD')}>
            <option value="CNY">CNY</option>
            <option value="USD">USD</option>
          </select>
        </label>
      </div>
      {error ? <Problem error={error} /> : null}
      <button type="submit" disabled={working}>
        {t('console.tenants.create')}
      </button>
    </form>
  );
}
