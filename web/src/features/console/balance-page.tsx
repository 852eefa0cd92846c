/** The balance (GET /v1/balance) and the ledger behind it (/v1/ledger, or /admin for the tenant in view). */
import { useEffect, useState } from 'react';
import type { LedgerEntryObject } from '../../../../src/contracts/admin-responses.js';
import { useI18n } from '../../i18n/i18n.js';
import { useConsole } from './console-session.js';
import { DataTable, formatMoney, formatSeconds, Loading, PageTitle, Problem, useLoad } from './console-ui.js';

export function BalancePage() {
  const { t } = useI18n();
  const { identity, tenantId } = useConsole();
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.balance')}</PageTitle>
      <BalanceCard />
      <section className="card">
        <h2>{t('console.ledger.title')}</h2>
        <Ledger tenantId={tenantId} own={!identity.admin} />
      </section>
    </div>
  );
}

export function BalanceCard({ version = 0 }: { version?: number }) {
  const { t, lang } = useI18n();
  const { api, scope } = useConsole();
  const state = useLoad(() => api.balance(scope), [api, scope, version]);
  const balance = state.data;
  const money = (micros: number) => (balance ? formatMoney(micros, balance.currency, lang) : '');
  return (
    <Loading state={state}>
      {balance && (
        <dl className="stat-cards" data-testid="balance">
          <div className="card stat">
            <dt>{t('console.balance.balance')}</dt>
            <dd data-testid="balance-amount" data-micros={balance.balance_micros}>
              {money(balance.balance_micros)}
            </dd>
          </div>
          <div className="card stat">
            <dt>{t('console.balance.reserved')}</dt>
            <dd>{money(balance.reserved_micros)}</dd>
          </div>
          <div className="card stat">
            <dt>{t('console.balance.available')}</dt>
            <dd data-testid="balance-available">{balance.unlimited ? t('console.balance.unlimited') : money(balance.available_micros)}</dd>
          </div>
        </dl>
      )}
    </Loading>
  );
}

/** Newest first, a page at a time; `kinds` narrows it (top-ups and codes only, say). */
export function Ledger({ tenantId, kinds, version = 0, own = false }: { tenantId: string; kinds?: LedgerEntryObject['kind'][]; version?: number; own?: boolean }) {
  const { t, lang } = useI18n();
  const { api, tenants } = useConsole();
  const currency = tenants.find((tenant) => tenant.id === tenantId)?.currency ?? 'CNY';
  const page = (before?: number) => (own ? api.ownLedger(before) : api.ledger(tenantId, before));
  const first = useLoad(() => page(), [api, tenantId, version, own]);
  const [older, setOlder] = useState<LedgerEntryObject[]>([]);
  const [more, setMore] = useState<{ hasMore: boolean; lastId: number | null }>({ hasMore: false, lastId: null });
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setOlder([]);
    if (first.data) setMore({ hasMore: first.data.has_more, lastId: first.data.last_id });
  }, [first.data]);

  const loadOlder = async () => {
    if (more.lastId === null) return;
    try {
      const next = await page(more.lastId);
      setOlder((shown) => [...shown, ...next.data]);
      setMore({ hasMore: next.has_more, lastId: next.last_id });
      setError(null);
    } catch (failure) {
      setError(failure);
    }
  };

  const entries = [...(first.data?.data ?? []), ...older].filter((entry) => !kinds || kinds.includes(entry.kind));
  return (
    <Loading state={first}>
      {entries.length === 0 ? (
        <p className="muted">{t('console.ledger.empty')}</p>
      ) : (
        <DataTable testId="ledger" columns={[t('console.ledger.when'), t('console.ledger.kind'), t('console.ledger.amount'), t('console.ledger.ref')]}>
          {entries.map((entry) => (
            <tr key={entry.id} data-kind={entry.kind}>
              <td>{formatSeconds(entry.created_at, lang)}</td>
              <td>{t(`console.ledger.kind.${entry.kind}`)}</td>
              <td className={`num ${entry.amount_micros < 0 ? 'debit' : 'credit'}`}>{formatMoney(entry.amount_micros, currency, lang)}</td>
              <td className="mono ref">{entry.ref}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {error ? <Problem error={error} onRetry={() => void loadOlder()} /> : null}
      {more.hasMore && (
        <button type="button" className="secondary" onClick={() => void loadOlder()}>
          {t('console.ledger.older')}
        </button>
      )}
    </Loading>
  );
}
