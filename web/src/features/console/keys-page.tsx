/**
 * API keys of the tenant in view: list, create (the sk- key shown once), revoke. The admin
 * key manages any tenant's through /admin; a tenant's own key manages its tenant's through
 * /v1/keys, which grants no key looser than the one used (the server says so if asked).
 */
import { useState } from 'react';
import type { ApiKeyObject } from '../../../../src/contracts/admin-responses.js';
import { useI18n } from '../../i18n/i18n.js';
import type { CreateKey } from './console-api.js';
import { useConsole } from './console-session.js';
import { DataTable, formatSeconds, Loading, PageTitle, Problem, ShownOnce, useAction, useLoad } from './console-ui.js';

export function KeysPage() {
  const { t } = useI18n();
  const { identity, tenantId } = useConsole();
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.keys')}</PageTitle>
      <KeyManager key={tenantId} tenantId={tenantId} own={!identity.admin} />
    </div>
  );
}

function KeyManager({ tenantId, own }: { tenantId: string; own: boolean }) {
  const { t, lang } = useI18n();
  const { api } = useConsole();
  const keys = useLoad(() => (own ? api.ownKeys() : api.keys(tenantId)), [api, tenantId, own]);
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const revoke = async (key: ApiKeyObject) => {
    if (!window.confirm(t('console.keys.confirmRevoke', { name: key.name }))) return;
    try {
      await (own ? api.revokeOwnKey(key.id) : api.revokeKey(key.id));
      setError(null);
      keys.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <>
      <CreateKeyForm
        onCreate={async (body) => {
          const made = await (own ? api.createOwnKey(body) : api.createKey(tenantId, body));
          setCreated(made.key);
          keys.reload();
        }}
      />
      {created && <ShownOnce title={t('console.keys.created')} secrets={[created]} onDone={() => setCreated(null)} />}
      {error ? <Problem error={error} /> : null}
      <Loading state={keys}>
        <DataTable
          testId="keys"
          columns={[t('console.keys.name'), t('console.keys.prefix'), t('console.keys.limits'), t('console.keys.lastUsed'), t('console.keys.status')]}
          actions
        >
          {keys.data?.map((key) => (
            <tr key={key.id} data-key-id={key.id}>
              <td>{key.name}</td>
              <td className="mono">{key.prefix}…</td>
              <td>
                {t('console.keys.rates', { rpm: key.rpm, tpm: key.tpm })}
                {key.monthly_budget !== null && <> · {t('console.keys.budget', { amount: key.monthly_budget })}</>}
                {key.models.length > 0 && <> · {key.models.join(', ')}</>}
              </td>
              <td>{formatSeconds(key.last_used_at, lang)}</td>
              <td data-testid="key-status">{key.revoked_at === null ? t('console.keys.active') : t('console.keys.revoked')}</td>
              <td>
                {key.revoked_at === null && (
                  <button type="button" className="danger small" onClick={() => void revoke(key)}>
                    {t('console.keys.revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
        {keys.data?.length === 0 && <p className="muted">{t('console.keys.none')}</p>}
      </Loading>
    </>
  );
}

function CreateKeyForm({ onCreate }: { onCreate: (body: CreateKey) => Promise<void> }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [models, setModels] = useState('');
  const [rpm, setRpm] = useState('');
  const [tpm, setTpm] = useState('');
  const [budget, setBudget] = useState('');
  const { working, error, run } = useAction();
  const submit = () =>
    run(async () => {
      const list = models.split(',').map((m) => m.trim()).filter(Boolean);
      await onCreate({
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(list.length > 0 ? { models: list } : {}),
        ...(rpm ? { rpm: Number(rpm) } : {}),
        ...(tpm ? { tpm: Number(tpm) } : {}),
        ...(budget.trim() ? { monthly_budget: budget.trim() } : {}),
      });
      setName('');
    });
  return (
    <form
      className="card console-form"
      aria-label={t('console.keys.create')}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h2>{t('console.keys.create')}</h2>
      <div className="form-grid">
        <label>
          {t('console.keys.name')}
          <input name="key-name" value={name} onChange={(event) => setName(event.target.value)} placeholder="default" maxLength={200} />
        </label>
        <label>
          {t('console.keys.models')}
          <input name="key-models" value={models} onChange={(event) => setModels(event.target.value)} placeholder={t('console.keys.allModels')} />
        </label>
        <label>
          RPM
          <input name="key-rpm" type="number" min={1} value={rpm} onChange={(event) => setRpm(event.target.value)} placeholder="60" />
        </label>
        <label>
          TPM
          <input name="key-tpm" type="number" min={1} value={tpm} onChange={(event) => setTpm(event.target.value)} placeholder="100000" />
        </label>
        <label>
          {t('console.keys.monthlyBudget')}
          <input name="key-budget" inputMode="decimal" value={budget} onChange={(event) => setBudget(event.target.value)} placeholder={t('console.optional')} />
        </label>
      </div>
      {error ? <Problem error={error} /> : null}
      <button type="submit" disabled={working}>
        {t('console.keys.create')}
      </button>
    </form>
  );
}
