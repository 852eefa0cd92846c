/**
 * Cached contexts (Ark-style context caching) of the calling key's own tenant: what each
 * holds, what its storage has cost so far, when it expires, and a delete that frees it.
 * Only /v1/contexts is used, so the admin key sees the operator tenant's own contexts.
 */
import { useState } from 'react';
import type { ContextObject } from '../../../../src/contracts/context-request.js';
import { useI18n } from '../../i18n/i18n.js';
import { useConsole } from './console-session.js';
import { DataTable, formatNumber, formatSeconds, Loading, PageTitle, Problem, useLoad } from './console-ui.js';

export function ContextsPage() {
  const { t, lang } = useI18n();
  const { api } = useConsole();
  const contexts = useLoad(() => api.contexts(), [api]);
  const [error, setError] = useState<unknown>(null);

  const remove = async (context: ContextObject) => {
    if (!window.confirm(t('console.contexts.confirmDelete', { id: context.id }))) return;
    try {
      await api.deleteContext(context.id);
      setError(null);
      contexts.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.contexts')}</PageTitle>
      <p className="muted">{t('console.contexts.intro')}</p>
      {error ? <Problem error={error} /> : null}
      <Loading state={contexts}>
        <DataTable
          testId="contexts"
          columns={[
            t('console.contexts.id'), t('console.contexts.model'), t('console.contexts.mode'), t('console.contexts.tokens'),
            t('console.contexts.storage'), t('console.contexts.expires'),
          ]}
          actions
        >
          {contexts.data?.map((context) => (
            <tr key={context.id} data-context-id={context.id}>
              <td className="mono">{context.id}</td>
              <td>{context.model}</td>
              <td>{context.mode}</td>
              <td>{formatNumber(context.tokens, lang)}</td>
              <td>{context.storage_charged}</td>
              <td>{formatSeconds(context.expires_at, lang)}</td>
              <td>
                <button type="button" className="danger small" onClick={() => void remove(context)}>
                  {t('console.contexts.delete')}
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
        {contexts.data?.length === 0 && <p className="muted">{t('console.contexts.none')}</p>}
      </Loading>
    </div>
  );
}
