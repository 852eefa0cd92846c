/**
 * The price catalog (admin): what each model costs now, every version of one model, and
 * a new version. Prices are per 1M tokens, entered and shown as exact decimal strings;
 * media models are priced per image unit, per 1M speech characters and per audio minute.
 */
import { useState } from 'react';
import type { PriceObject } from '../../../../src/contracts/admin-responses.js';
import { useI18n } from '../../i18n/i18n.js';
import type { SetPrice } from './console-api.js';
import { useConsole } from './console-session.js';
import { DataTable, formatSeconds, Loading, PageTitle, Problem, useAction, useLoad } from './console-ui.js';

export function PricesPage() {
  const { t } = useI18n();
  const { api } = useConsole();
  const current = useLoad(() => api.prices(), [api]);
  const models = useLoad(() => api.models(), [api]);
  const [history, setHistory] = useState<string | null>(null);
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.prices')}</PageTitle>
      <SetPriceForm
        models={models.data ?? []}
        onSet={async (body) => {
          await api.setPrice(body);
          current.reload();
          if (history === body.model) setHistory(null);
        }}
      />
      <section className="card">
        <h2>{t('console.prices.current')}</h2>
        <Loading state={current}>
          {current.data?.length === 0 ? (
            <p className="muted">{t('console.prices.none')}</p>
          ) : (
            <PriceTable testId="prices" prices={current.data ?? []} onHistory={setHistory} />
          )}
        </Loading>
      </section>
      {history && <History model={history} onClose={() => setHistory(null)} />}
    </div>
  );
}

function History({ model, onClose }: { model: string; onClose: () => void }) {
  const { t } = useI18n();
  const { api } = useConsole();
  const versions = useLoad(() => api.prices(model), [api, model]);
  return (
    <section className="card">
      <div className="section-head">
        <h2>{t('console.prices.historyOf', { model })}</h2>
        <button type="button" className="quiet small" onClick={onClose}>
          {t('error.dismiss')}
        </button>
      </div>
      <Loading state={versions}>
        <PriceTable testId="price-history" prices={versions.data ?? []} />
      </Loading>
    </section>
  );
}

function PriceTable({ prices, onHistory, testId }: { prices: PriceObject[]; onHistory?: (model: string) => void; testId: string }) {
  const { t, lang } = useI18n();
  return (
    <DataTable
      testId={testId}
      columns={[
        t('console.usage.model'),
        t('console.prices.version'),
        t('console.prices.input'),
        t('console.prices.cached'),
        t('console.prices.output'),
        t('console.prices.batch'),
        t('console.prices.image'),
        t('console.prices.speech'),
        t('console.prices.audio'),
        t('console.prices.from'),
      ]}
      actions={onHistory !== undefined}
    >
      {prices.map((price) => (
        <tr key={price.id} data-model={price.model}>
          <td>{price.model}</td>
          <td className="num">v{price.version}</td>
          <td className="num">
            {price.input} {price.currency}
          </td>
          <td className="num">
            {price.cached_input} {price.currency}
          </td>
          <td className="num">
            {price.output} {price.currency}
          </td>
          <td className="num">{price.batch_discount_pct}%</td>
          <td className="num" data-testid="price-image">
            {price.image} {price.currency}
          </td>
          <td className="num" data-testid="price-speech">
            {price.speech_chars} {price.currency}
          </td>
          <td className="num" data-testid="price-audio">
            {price.audio_minute} {price.currency}
          </td>
          <td>{formatSeconds(price.effective_from, lang)}</td>
          {onHistory && (
            <td>
              <button type="button" className="small secondary" onClick={() => onHistory(price.model)}>
                {t('console.prices.history')}
              </button>
            </td>
          )}
        </tr>
      ))}
    </DataTable>
  );
}

function SetPriceForm({ models, onSet }: { models: string[]; onSet: (body: SetPrice) => Promise<void> }) {
  const { t } = useI18n();
  const [form, setForm] = useState({ model: '', currency: 'CNY' as 'CNY' | 'USD', input: '', cached_input: '', output: '', image: '', speech_chars: '', audio_minute: '' });
  const { working, error, run } = useAction();
  const [done, setDone] = useState<string | null>(null);
  const field = (name: keyof typeof form) => ({
    name: `price-${name}`,
    value: form[name],
    onChange: (event: { target: { value: string } }) => setForm({ ...form, [name]: event.target.value }),
  });
  return (
    <form
      className="card console-form"
      aria-label={t('console.prices.set')}
      onSubmit={(event) => {
        event.preventDefault();
        setDone(null);
        const { cached_input, image, speech_chars, audio_minute, ...rest } = form;
        // Blank optional rates are left out: the server's defaults apply.
        const optional = Object.fromEntries(
          Object.entries({ cached_input, image, speech_chars, audio_minute })
            .map(([name, value]) => [name, value.trim()])
            .filter(([, value]) => value !== ''),
        ) as Partial<Pick<SetPrice, 'cached_input' | 'image' | 'speech_chars' | 'audio_minute'>>;
        void run(async () => {
          await onSet({ ...rest, ...optional });
          setDone(form.model);
        });
      }}
    >
      <h2>{t('console.prices.set')}</h2>
      <p className="muted">{t('console.prices.hint')}</p>
      <div className="form-grid">
        <label>
          {t('console.usage.model')}
          <input {...field('model')} list="price-models" required />
          <datalist id="price-models">
            {models.map((model) => (
              <option key={model} value={model} />
            ))}
          </datalist>
        </label>
        <label>
          {t('console.tenants.currency')}
          <select {...field('currency')}>
            <option value="CNY">CNY</option>
            <option value="USD">USD</option>
          </select>
        </label>
        <label>
          {t('console.prices.input')}
          <input {...field('input')} inputMode="decimal" required placeholder="0.8" />
        </label>
        <label>
          {t('console.prices.cached')}
          <input {...field('cached_input')} inputMode="decimal" placeholder={t('console.prices.cachedDefault')} />
        </label>
        <label>
          {t('console.prices.output')}
          <input {...field('output')} inputMode="decimal" required placeholder="2" />
        </label>
      </div>
      <p className="muted">{t('console.prices.mediaHint')}</p>
      <div className="form-grid">
        <label>
          {t('console.prices.image')}
          <input {...field('image')} inputMode="decimal" placeholder="0" />
        </label>
        <label>
          {t('console.prices.speech')}
          <input {...field('speech_chars')} inputMode="decimal" placeholder="0" />
        </label>
        <label>
          {t('console.prices.audio')}
          <input {...field('audio_minute')} inputMode="decimal" placeholder="0" />
        </label>
      </div>
      {error ? <Problem error={error} /> : null}
      {done && (
        <p role="status" className="ok-text">
          {t('console.prices.saved', { model: done })}
        </p>
      )}
      <button type="submit" disabled={working}>
        {t('console.prices.set')}
      </button>
    </form>
  );
}
