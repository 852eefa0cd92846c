/**
 * ep-… endpoints the tenant in view may call (its own and the shared presets), started or
 * stopped here: through /admin with the admin key, through /v1/endpoints with a tenant's
 * own key (its own endpoints only; presets are the operator's). A tenant key also sees
 * what its keys called through them, from its usage.
 */
import { useMemo, useState } from 'react';
import type { EndpointObject, UsageRowObject } from '../../../../src/contracts/admin-responses.js';
import { useI18n } from '../../i18n/i18n.js';
import { useConsole } from './console-session.js';
import { DataTable, formatMoney, formatNumber, formatSeconds, Loading, PageTitle, Problem, useLoad } from './console-ui.js';
import { lastDays } from './usage-series.js';
import { CreateEndpointForm } from './endpoint-form.js';

export function EndpointsPage() {
  const { t } = useI18n();
  const { identity } = useConsole();
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.endpoints')}</PageTitle>
      <EndpointList own={!identity.admin} />
      {!identity.admin && <EndpointUsage />}
    </div>
  );
}

function EndpointList({ own }: { own: boolean }) {
  const { t, lang } = useI18n();
  const { api, identity, tenantId } = useConsole();
  // The operator's own view is every endpoint; another tenant's is what it may call.
  const filter = tenantId === identity.tenantId ? undefined : tenantId;
  const endpoints = useLoad(() => (own ? api.ownEndpoints() : api.endpoints(filter)), [api, filter, own]);
  const [error, setError] = useState<unknown>(null);
  const toggle = async (endpoint: EndpointObject) => {
    try {
      const verb = endpoint.status === 'started' ? 'stop' : 'start';
      await (own ? api.setOwnEndpoint(endpoint.id, verb) : api.setEndpoint(endpoint.id, verb));
      setError(null);
      endpoints.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Loading state={endpoints}>
      <CreateEndpointForm
        onCreate={async (body) => {
          await (own ? api.createOwnEndpoint(body) : api.createEndpoint(tenantId, body));
          endpoints.reload();
        }}
      />
      {error ? <Problem error={error} /> : null}
      {endpoints.data?.length === 0 ? (
        <p className="muted">{t('console.endpoints.none')}</p>
      ) : (
        <DataTable
          testId="endpoints"
          columns={[
            t('console.endpoints.id'),
            t('console.keys.name'),
            t('console.usage.model'),
            t('console.endpoints.owner'),
            t('console.keys.limits'),
            t('console.keys.status'),
            t('console.created'),
          ]}
          actions
        >
          {endpoints.data?.map((endpoint) => (
            <tr key={endpoint.id} data-endpoint-id={endpoint.id}>
              <td className="mono">{endpoint.id}</td>
              <td>{endpoint.name}</td>
              <td>{endpoint.model}</td>
              <td>{endpoint.tenant_id ?? t('console.endpoints.shared')}</td>
              <td>{t('console.keys.rates', { rpm: endpoint.rpm, tpm: endpoint.tpm ?? '∞' })}</td>
              <td data-testid="endpoint-status">{endpoint.status === 'started' ? t('console.endpoints.started') : t('console.endpoints.stopped')}</td>
              <td>{formatSeconds(endpoint.created_at, lang)}</td>
              <td>
                {(!own || endpoint.tenant_id !== null) && (
                  <button type="button" className={endpoint.status === 'started' ? 'danger small' : 'small'} onClick={() => void toggle(endpoint)}>
                    {endpoint.status === 'started' ? t('console.endpoints.stop') : t('console.endpoints.start')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Loading>
  );
}

function EndpointUsage() {
  const { t, lang } = useI18n();
  const { api } = useConsole();
  const range = useMemo(() => lastDays(30), []);
  const state = useLoad(async () => {
    const [usage, balance] = await Promise.all([api.usage(['endpoint', 'model'], range), api.balance()]);
    return { rows: usage.data, currency: balance.currency };
  }, [api, range]);
  const endpoints = state.data ? usedEndpoints(state.data.rows) : [];
  return (
    <>
      <Loading state={state}>
        <h2>{t('console.endpoints.used')}</h2>
        {endpoints.length === 0 ? (
          <p className="muted">{t('console.endpoints.noneUsed')}</p>
        ) : (
          <DataTable
            testId="endpoint-usage"
            columns={[t('console.endpoints.id'), t('console.usage.model'), t('console.usage.requests'), t('console.usage.cost')]}
          >
            {endpoints.map((row) => (
              <tr key={`${row.endpoint}/${row.model}`}>
                <td className="mono">{row.endpoint}</td>
                <td>{row.model}</td>
                <td className="num">{formatNumber(row.requests, lang)}</td>
                <td className="num">{formatMoney(row.costMicros, state.data!.currency, lang)}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </Loading>
    </>
  );
}

/** Rows grouped by endpoint and model; requests that named a model (no endpoint) are left out. */
function usedEndpoints(rows: UsageRowObject[]) {
  return rows
    .filter((row) => row.endpoint_id)
    .map((row) => ({ endpoint: row.endpoint_id!, model: row.model ?? '', requests: row.requests, costMicros: row.cost_micros }));
}
