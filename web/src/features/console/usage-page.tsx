/** Usage and cost by day, model and key: GET /v1/usage?group_by=day,model and ?group_by=key. */
import { useMemo, useState } from 'react';
import { useI18n } from '../../i18n/i18n.js';
import { useConsole } from './console-session.js';
import { DataTable, formatMoney, formatNumber, Loading, PageTitle, useLoad } from './console-ui.js';
import { Bars, CostByDay } from './usage-charts.js';
import { daily, lastDays, total, totalsBy, type Totals } from './usage-series.js';

const spans = [7, 30, 90] as const;

export function UsagePage() {
  const { t, lang } = useI18n();
  const { api, scope, tenantId, identity } = useConsole();
  const [span, setSpan] = useState<(typeof spans)[number]>(30);
  const range = useMemo(() => lastDays(span), [span]);
  const state = useLoad(
    async () => {
      const [byDay, byKey, balance, keys] = await Promise.all([
        api.usage(['day', 'model'], range, scope),
        api.usage(['key'], range, scope),
        api.balance(scope),
        // Key names are the admin API's; a tenant key sees key ids.
        identity.admin ? api.keys(tenantId) : Promise.resolve([]),
      ]);
      return { byDay, byKey, currency: balance.currency, names: new Map(keys.map((key) => [key.id, `${key.name} (${key.prefix}…)`])) };
    },
    [api, scope, tenantId, range],
  );

  const view = useMemo(() => {
    if (!state.data) return undefined;
    const rows = state.data.byDay.data;
    return { series: daily(rows, range), sum: total(rows), models: totalsBy(rows, 'model'), keys: totalsBy(state.data.byKey.data, 'api_key_id') };
  }, [state.data, range]);

  const currency = state.data?.currency ?? 'CNY';
  const money = (micros: number) => formatMoney(micros, currency, lang);
  const keyName = (id: string | null) => (id === null ? t('console.usage.adminKey') : (state.data?.names.get(id) ?? id));

  return (
    <div className="console-page">
      <PageTitle
        actions={
          <label className="inline-label">
            {t('console.usage.span')}
            <select value={span} onChange={(event) => setSpan(Number(event.target.value) as (typeof spans)[number])}>
              {spans.map((days) => (
                <option key={days} value={days}>
                  {t('console.usage.days', { days })}
                </option>
              ))}
            </select>
          </label>
        }
      >
        {t('console.nav.usage')}
      </PageTitle>
      <Loading state={state}>
        {view && (
          <>
            <dl className="stat-cards" data-testid="usage-totals">
              <Stat label={t('console.usage.requests')} value={formatNumber(view.sum.requests, lang)} testId="usage-total-requests" />
              <Stat label={t('console.usage.tokens')} value={formatNumber(view.sum.promptTokens + view.sum.completionTokens, lang)} testId="usage-total-tokens" />
              <Stat label={t('console.usage.cost')} value={money(view.sum.costMicros)} testId="usage-total-cost" />
            </dl>
            {view.sum.requests === 0 && <p className="muted">{t('console.usage.none')}</p>}
            <section className="card">
              <h2>{t('console.usage.costByDay')}</h2>
              <CostByDay series={view.series} label={t('console.usage.costByDay')} format={(value) => formatMoney(value * 1e6, currency, lang)} />
            </section>
            <section className="card">
              <h2>{t('console.usage.tokensByDay')}</h2>
              <Bars
                testId="chart-tokens-by-day"
                label={t('console.usage.tokensByDay')}
                labels={view.series.days.map((day) => day.slice(5))}
                datasets={[
                  { label: t('console.usage.prompt'), data: view.series.promptTokens },
                  { label: t('console.usage.completion'), data: view.series.completionTokens },
                ]}
                stacked
              />
            </section>
            <div className="two-columns">
              <section className="card">
                <h2>{t('console.usage.byModel')}</h2>
                <Bars
                  testId="chart-cost-by-model"
                  label={t('console.usage.byModel')}
                  labels={view.models.map((m) => m.id ?? '')}
                  datasets={[{ label: t('console.usage.cost'), data: view.models.map((m) => m.costMicros / 1e6) }]}
                  horizontal
                  format={(value) => formatMoney(value * 1e6, currency, lang)}
                />
                <UsageTable testId="usage-by-model" first={t('console.usage.model')} rows={view.models.map((m) => ({ ...m, name: m.id ?? '' }))} money={money} />
              </section>
              <section className="card">
                <h2>{t('console.usage.byKey')}</h2>
                <Bars
                  testId="chart-cost-by-key"
                  label={t('console.usage.byKey')}
                  labels={view.keys.map((k) => keyName(k.id))}
                  datasets={[{ label: t('console.usage.cost'), data: view.keys.map((k) => k.costMicros / 1e6) }]}
                  horizontal
                  format={(value) => formatMoney(value * 1e6, currency, lang)}
                />
                <UsageTable testId="usage-by-key" first={t('console.usage.key')} rows={view.keys.map((k) => ({ ...k, name: keyName(k.id) }))} money={money} />
              </section>
            </div>
          </>
        )}
      </Loading>
    </div>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="card stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

function UsageTable({ first, rows, money, testId }: { first: string; rows: Array<Totals & { name: string }>; money: (micros: number) => string; testId: string }) {
  const { t, lang } = useI18n();
  return (
    <DataTable
      testId={testId}
      columns={[first, t('console.usage.requests'), t('console.usage.prompt'), t('console.usage.completion'), t('console.usage.cost')]}
    >
      {rows.map((row) => (
        <tr key={row.name}>
          <td>{row.name}</td>
          <td className="num">{formatNumber(row.requests, lang)}</td>
          <td className="num">{formatNumber(row.promptTokens, lang)}</td>
          <td className="num">{formatNumber(row.completionTokens, lang)}</td>
          <td className="num">{money(row.costMicros)}</td>
        </tr>
      ))}
    </DataTable>
  );
}
