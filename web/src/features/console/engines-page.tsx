/**
 * Engine replicas and their health. The admin key sees each engine (GET /admin/engines:
 * kind, models, health, slots) with each model's circuit breaker on it (GET /admin/queue);
 * a tenant key sees the replicas and breakers that /v1/queue shows everyone.
 */
import { useI18n } from '../../i18n/i18n.js';
import type { EngineList, QueueSnapshot } from './console-api.js';
import { useConsole } from './console-session.js';
import { DataTable, AdminNote, Loading, PageTitle, useLoad } from './console-ui.js';
import { Breaker, Meter, queuePollMs, ReplicaList } from './queue-page.js';

export function EnginesPage() {
  const { t } = useI18n();
  const { identity } = useConsole();
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.engines')}</PageTitle>
      {identity.admin ? <EngineTable /> : <PublicReplicas />}
    </div>
  );
}

function EngineTable() {
  const { t } = useI18n();
  const { api } = useConsole();
  const state = useLoad(async () => {
    const [engines, queue] = await Promise.all([api.engines(), api.adminQueue()]);
    return { engines, queue };
  }, [api], queuePollMs);
  return (
    <Loading state={state}>
      {state.data && (
        <>
          <p className="muted">{t('console.engines.inFlight', { count: state.data.engines.in_flight_requests })}</p>
          <DataTable
            testId="engines"
            columns={[
              t('console.engines.engine'),
              t('console.engines.kind'),
              t('console.engines.health'),
              t('console.engines.slots'),
              t('console.engines.breakers'),
            ]}
          >
            {state.data.engines.data.map((engine) => (
              <tr key={engine.id} data-engine={engine.id}>
                <td className="mono">{engine.id}</td>
                <td>{engine.kind}</td>
                <td>
                  <Health health={engine.health} />
                </td>
                <td>
                  <Meter busy={engine.capacity.busy} slots={engine.capacity.slots} />
                </td>
                <td>
                  <ul className="breakers">
                    {breakersOf(engine.id, engine.models, state.data!.queue).map(({ model, breaker }) => (
                      <li key={model}>
                        <span>{model}</span> {breaker ? <Breaker state={breaker} /> : <span className="muted">–</span>}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
    </Loading>
  );
}

/** Breakers are per model on a replica: what each of the engine's models says about it. */
function breakersOf(engineId: string, models: string[], queue: QueueSnapshot) {
  return models.map((model) => ({
    model,
    breaker: queue.models.find((m) => m.model === model)?.replicas.find((r) => r.id === engineId)?.breaker,
  }));
}

function Health({ health }: { health: EngineList['data'][number]['health'] }) {
  const { t } = useI18n();
  return (
    <span className={`status-pill health-${health.state}`} data-testid="health" data-state={health.state}>
      {t(`console.health.${health.state}`)}
      {health.state === 'failed' && <span className="reason">: {health.reason}</span>}
    </span>
  );
}

function PublicReplicas() {
  const { t } = useI18n();
  const { api } = useConsole();
  const state = useLoad(() => api.queue(), [api], queuePollMs);
  return (
    <>
      <AdminNote>{t('console.engines.adminOnly')}</AdminNote>
      <Loading state={state}>
        {state.data?.models.map((model) => (
          <section key={model.model} className="card" data-model={model.model}>
            <h2>{model.model}</h2>
            <ReplicaList replicas={model.replicas} />
          </section>
        ))}
      </Loading>
    </>
  );
}
