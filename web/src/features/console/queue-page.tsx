/**
 * The live queue (GET /v1/queue, every 2 s): per model, how many requests wait in each tier
 * and how long a new one would wait; and its replicas' load and breakers.
 */
import { useI18n } from '../../i18n/i18n.js';
import type { QueueSnapshot } from './console-api.js';
import { useConsole } from './console-session.js';
import { DataTable, formatNumber, Loading, PageTitle, useLoad } from './console-ui.js';

export const queuePollMs = 2000;

export function QueuePage() {
  const { t } = useI18n();
  const { api } = useConsole();
  const state = useLoad(() => api.queue(), [api], queuePollMs);
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.queue')}</PageTitle>
      <p className="muted">{t('console.queue.intro', { seconds: queuePollMs / 1000 })}</p>
      <Loading state={state}>{state.data && <QueueView snapshot={state.data} />}</Loading>
    </div>
  );
}

export function QueueView({ snapshot }: { snapshot: QueueSnapshot }) {
  const { t, lang } = useI18n();
  const seconds = (ms: number) => t('console.queue.seconds', { seconds: (ms / 1000).toLocaleString(lang, { maximumFractionDigits: 1 }) });
  if (snapshot.models.length === 0) return <p className="muted">{t('console.queue.empty')}</p>;
  return (
    <div className="queue-models" data-testid="queue" data-at={snapshot.at}>
      {snapshot.models.map((model) => {
        const waiting = model.tiers.reduce((sum, tier) => sum + tier.depth, 0);
        return (
          <section key={model.model} className="card" data-model={model.model}>
            <h2>
              {model.model} <span className="tag">{t('console.queue.waiting', { count: waiting })}</span>
            </h2>
            <DataTable
              caption={t('console.queue.tiersOf', { model: model.model })}
              columns={[t('console.queue.tier'), t('console.queue.depth'), t('console.queue.oldest'), t('console.queue.eta')]}
            >
              {model.tiers.map((tier) => (
                <tr key={tier.tier} data-tier={tier.tier}>
                  <td>{t(`console.tier.${tier.tier}`)}</td>
                  <td className="num" data-testid="depth">
                    {formatNumber(tier.depth, lang)}
                  </td>
                  <td className="num">{tier.depth === 0 ? '–' : seconds(tier.oldestWaitMs)}</td>
                  <td className="num">{seconds(tier.etaMs)}</td>
                </tr>
              ))}
            </DataTable>
            <ReplicaList replicas={model.replicas} />
          </section>
        );
      })}
    </div>
  );
}

export function ReplicaList({ replicas }: { replicas: QueueSnapshot['models'][number]['replicas'] }) {
  return (
    <ul className="replicas">
      {replicas.map((replica) => (
        <li key={replica.id} data-replica={replica.id}>
          <span className="mono">{replica.id}</span>
          <Meter busy={replica.busy} slots={replica.slots} />
          <Breaker state={replica.breaker} />
        </li>
      ))}
    </ul>
  );
}

export function Meter({ busy, slots }: { busy: number; slots: number }) {
  const { t } = useI18n();
  return (
    <span className="meter-wrap">
      <meter min={0} max={Math.max(1, slots)} value={busy} aria-label={t('console.queue.slotsBusy', { busy, slots })} />
      <span>{t('console.queue.slotsBusy', { busy, slots })}</span>
    </span>
  );
}

export function Breaker({ state }: { state: 'closed' | 'open' | 'half-open' }) {
  const { t } = useI18n();
  return (
    <span className={`status-pill breaker-${state}`} data-testid="breaker" data-state={state}>
      {t(`console.breaker.${state}`)}
    </span>
  );
}
