/** Top-ups (admin): credit the tenant in view, and the money that came in before. */
import { useState } from 'react';
import { useI18n } from '../../i18n/i18n.js';
import { BalanceCard, Ledger } from './balance-page.js';
import { useConsole } from './console-session.js';
import { PageTitle, Problem, useAction } from './console-ui.js';

export function TopUpsPage() {
  const { t } = useI18n();
  const { api, tenantId, tenants } = useConsole();
  const tenant = tenants.find((candidate) => candidate.id === tenantId);
  const [amount, setAmount] = useState('');
  const [ref, setRef] = useState('');
  const { working, error, run } = useAction();
  const [done, setDone] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  const submit = () => {
    setDone(null);
    return run(async () => {
      const result = await api.topUp(tenantId, { amount: amount.trim(), ...(ref.trim() ? { ref: ref.trim() } : {}) });
      setDone(t('console.topups.done', { amount: `${result.amount} ${result.currency}`, balance: `${result.balance.balance} ${result.currency}` }));
      setAmount('');
      setRef('');
      setVersion((v) => v + 1);
    });
  };

  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.topups')}</PageTitle>
      <form
        className="card console-form"
        aria-label={t('console.topups.credit')}
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h2>{t('console.topups.creditTenant', { name: tenant ? `${tenant.name} (${tenant.id})` : tenantId })}</h2>
        <p className="muted">{t('console.topups.hint')}</p>
        <div className="form-grid">
          <label>
            {t('console.topups.amount', { currency: tenant?.currency ?? '' })}
            <input name="topup-amount" inputMode="decimal" value={amount} onChange={(event) => setAmount(event.target.value)} required placeholder="100" />
          </label>
          <label>
            {t('console.topups.ref')}
            <input name="topup-ref" value={ref} onChange={(event) => setRef(event.target.value)} maxLength={500} placeholder={t('console.optional')} />
          </label>
        </div>
        {error ? <Problem error={error} /> : null}
        {done && (
          <p role="status" className="ok-text" data-testid="topup-done">
            {done}
          </p>
        )}
        <button type="submit" disabled={working}>
          {t('console.topups.credit')}
        </button>
      </form>
      <BalanceCard version={version} />
      <section className="card">
        <h2>{t('console.topups.history')}</h2>
        <Ledger tenantId={tenantId} kinds={['topup', 'redeem', 'adjustment', 'refund']} version={version} />
      </section>
    </div>
  );
}
