/** Redeem codes (admin): make a batch (the codes are shown this once) and see what became of them. */
import { useState } from 'react';
import { useI18n } from '../../i18n/i18n.js';
import { useConsole } from './console-session.js';
import { DataTable, formatSeconds, Loading, PageTitle, Problem, ShownOnce, useAction, useLoad } from './console-ui.js';

const dayS = 86_400;

export function RedeemCodesPage() {
  const { t, lang } = useI18n();
  const { api } = useConsole();
  const codes = useLoad(() => api.redeemCodes(), [api]);
  const [made, setMade] = useState<string[] | null>(null);
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.redeemCodes')}</PageTitle>
      <CreateCodesForm
        onCreate={async (body) => {
          const created = await api.createRedeemCodes(body);
          setMade(created.map((code) => code.code));
          codes.reload();
        }}
      />
      {made && <ShownOnce title={t('console.codes.created', { count: made.length })} secrets={made} onDone={() => setMade(null)} />}
      <section className="card">
        <h2>{t('console.codes.issued')}</h2>
        <Loading state={codes}>
          {codes.data?.length === 0 ? (
            <p className="muted">{t('console.codes.none')}</p>
          ) : (
            <DataTable
              testId="redeem-codes"
              columns={[
                t('console.codes.id'),
                t('console.ledger.amount'),
                t('console.keys.status'),
                t('console.codes.redeemedBy'),
                t('console.codes.expires'),
                t('console.created'),
              ]}
            >
              {codes.data?.map((code) => (
                <tr key={code.id} data-status={code.status}>
                  <td className="mono">{code.id}</td>
                  <td className="num">
                    {code.amount} {code.currency}
                  </td>
                  <td>{t(`console.codes.status.${code.status}`)}</td>
                  <td>{code.redeemed_by ? `${code.redeemed_by} · ${formatSeconds(code.redeemed_at, lang)}` : '–'}</td>
                  <td>{formatSeconds(code.expires_at, lang)}</td>
                  <td>{formatSeconds(code.created_at, lang)}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </Loading>
      </section>
    </div>
  );
}

interface CreateCodes {
  amount: string;
  count: number;
  currency: 'CNY' | 'USD';
  expires_at?: number;
}

function CreateCodesForm({ onCreate }: { onCreate: (body: CreateCodes) => Promise<void> }) {
  const { t } = useI18n();
  const [amount, setAmount] = useState('');
  const [count, setCount] = useState('10');
  const [currency, setCurrency] = useState<'CNY' | 'USD'>('CNY');
  const [days, setDays] = useState('');
  const { working, error, run } = useAction();
  return (
    <form
      className="card console-form"
      aria-label={t('console.codes.create')}
      onSubmit={(event) => {
        event.preventDefault();
        const expires = days.trim() ? { expires_at: Math.floor(Date.now() / 1000) + Number(days) * dayS } : {};
        void run(() => onCreate({ amount: amount.trim(), count: Number(count), currency, ...expires }));
      }}
    >
      <h2>{t('console.codes.create')}</h2>
      <div className="form-grid">
        <label>
          {t('console.codes.value')}
          <input name="code-amount" inputMode="decimal" value={amount} onChange={(event) => setAmount(event.target.value)} required placeholder="50" />
        </label>
        <label>
          {t('console.codes.count')}
          <input name="code-count" type="number" min={1} max={1000} value={count} onChange={(event) => setCount(event.target.value)} required />
        </label>
        <label>
          {t('console.tenants.currency')}
          <select name="code-currency" value={currency} onChange={(event) => setCurrency(event.target.value as 'CNY' | 'USD')}>
            <option value="CNY">CNY</option>
            <option value="USD">USD</option>
          </select>
        </label>
        <label>
          {t('console.codes.validDays')}
          <input name="code-days" type="number" min={1} value={days} onChange={(event) => setDays(event.target.value)} placeholder={t('console.codes.noExpiry')} />
        </label>
      </div>
      {error ? <Problem error={error} /> : null}
      <button type="submit" disabled={working}>
        {t('console.codes.create')}
      </button>
    </form>
  );
}
