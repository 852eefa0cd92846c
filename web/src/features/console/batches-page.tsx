/**
 * Batches (OpenAI's Batch API) of the key's tenant: upload a .jsonl and create a batch,
 * watch each batch's progress (refreshed every 2 s while any is still running), download
 * its output and error files, cancel a running one. The admin key sees every tenant's
 * batches and their progress through /admin/batches and may cancel a running one (a runaway
 * batch is the operator's problem too); a tenant's batches are created and their files read
 * with that tenant's own key, as over the API.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useI18n } from '../../i18n/i18n.js';
import type { MessageKey } from '../../i18n/dictionary.js';
import { batchEndpoints, type BatchObject } from './console-api.js';
import { useConsole } from './console-session.js';
import { AdminNote, DataTable, formatSeconds, Loading, PageTitle, Problem, useLoad } from './console-ui.js';
import { useCursorList } from './cursor-list.js';
import { downloadFile } from './file-download.js';
import { useUploadForm } from './upload-form.js';

const refreshMs = 2000;
const running = new Set(['validating', 'in_progress', 'finalizing', 'cancelling']);
const cancellable = new Set(['validating', 'in_progress']);

export function BatchesPage() {
  const { t } = useI18n();
  const { identity } = useConsole();
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.batches')}</PageTitle>
      {identity.admin ? <AllTenantsBatches /> : <OwnBatches />}
    </div>
  );
}

function OwnBatches() {
  const { t } = useI18n();
  const { api } = useConsole();
  const list = useCursorList((after) => api.batches(after), [api]);
  const [error, setError] = useState<unknown>(null);
  const active = list.items?.some((batch) => running.has(batch.status)) ?? false;

  // Polls only while something can still change.
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void list.refresh(), refreshMs);
    return () => clearInterval(timer);
  }, [active, list.refresh]);

  const cancel = useCancel((id) => api.cancelBatch(id), list.refresh, setError);
  const download = (fileId: string, kind: 'output' | 'errors', batch: BatchObject) =>
    downloadFile(api, fileId, `${batch.id}_${kind}.jsonl`).then(() => setError(null), setError);

  return (
    <>
      <CreateBatchForm onCreated={() => void list.refresh()} />
      <section className="card" aria-labelledby="batches-title">
        <div className="section-head">
          <h2 id="batches-title">{t('console.batches.list')}</h2>
          {active && (
            <span className="muted batch-note" data-testid="batches-refreshing">
              {t('console.batches.refreshing')}
            </span>
          )}
        </div>
        {error ? <Problem error={error} /> : null}
        {list.error ? <Problem error={list.error} onRetry={() => void list.refresh()} /> : null}
        {list.items === undefined ? (
          list.error ? null : (
            <p className="muted" aria-busy="true">
              {t('chat.loading')}
            </p>
          )
        ) : list.items.length === 0 ? (
          <p className="muted">{t('console.batches.none')}</p>
        ) : (
          <BatchTable
            batches={list.items}
            actions={(batch) => (
              <div className="row">
                {batch.output_file_id && (
                  <button type="button" className="small secondary" onClick={() => void download(batch.output_file_id!, 'output', batch)}>
                    {t('console.batches.output')}
                  </button>
                )}
                {batch.error_file_id && (
                  <button type="button" className="small secondary" onClick={() => void download(batch.error_file_id!, 'errors', batch)}>
                    {t('console.batches.errors')}
                  </button>
                )}
                <CancelButton batch={batch} cancel={cancel} />
              </div>
            )}
          />
        )}
        {list.hasMore && (
          <button type="button" className="secondary" disabled={list.loadingMore} onClick={list.loadMore}>
            {t('console.loadMore')}
          </button>
        )}
      </section>
    </>
  );
}

/** The operator's view: progress only, with each batch's tenant. */
function AllTenantsBatches() {
  const { t } = useI18n();
  const { api, tenantId } = useConsole();
  const [onlyInView, setOnlyInView] = useState(false);
  const [active, setActive] = useState(false);
  const batches = useLoad(() => api.adminBatches(onlyInView ? tenantId : undefined), [api, onlyInView, tenantId], active ? refreshMs : undefined);
  const anyRunning = batches.data?.some((batch) => running.has(batch.status)) ?? false;
  useEffect(() => setActive(anyRunning), [anyRunning]);
  const [error, setError] = useState<unknown>(null);
  const cancel = useCancel((id) => api.adminCancelBatch(id), batches.reload, setError);
  return (
    <>
      <AdminNote>{t('console.batches.adminNote')}</AdminNote>
      <section className="card" aria-labelledby="all-batches-title">
        <div className="section-head">
          <h2 id="all-batches-title">{t('console.batches.allTenants')}</h2>
          <label className="inline-label">
            <input type="checkbox" checked={onlyInView} onChange={(event) => setOnlyInView(event.target.checked)} />
            {t('console.batches.onlyInView')}
          </label>
        </div>
        {error ? <Problem error={error} /> : null}
        <Loading state={batches}>
          {batches.data?.length === 0 ? (
            <p className="muted">{t('console.batches.none')}</p>
          ) : (
            <BatchTable batches={batches.data ?? []} withTenant actions={(batch) => <CancelButton batch={batch} cancel={cancel} />} />
          )}
        </Loading>
      </section>
    </>
  );
}

/** Asks first, then cancels through `request` (the tenant's or the operator's route). */
function useCancel(request: (id: string) => Promise<unknown>, refresh: () => Promise<unknown> | void, setError: (error: unknown) => void) {
  const { t } = useI18n();
  return async (batch: BatchObject) => {
    if (!window.confirm(t('console.batches.confirmCancel', { id: batch.id }))) return;
    try {
      await request(batch.id);
      setError(null);
      await refresh();
    } catch (failure) {
      setError(failure);
    }
  };
}

function CancelButton({ batch, cancel }: { batch: BatchObject; cancel: (batch: BatchObject) => Promise<void> }) {
  const { t } = useI18n();
  if (!cancellable.has(batch.status)) return null;
  return (
    <button type="button" className="small danger" onClick={() => void cancel(batch)}>
      {t('console.batches.cancel')}
    </button>
  );
}

function BatchTable({ batches, withTenant = false, actions }: { batches: BatchObject[]; withTenant?: boolean; actions?: (batch: BatchObject) => ReactNode }) {
  const { t, lang } = useI18n();
  return (
    <DataTable
      testId="batches"
      columns={[
        t('console.batches.id'),
        ...(withTenant ? [t('console.batches.tenant')] : []),
        t('console.batches.endpoint'),
        t('console.batches.status'),
        t('console.batches.progress'),
        t('console.created'),
        t('console.batches.finished'),
      ]}
      actions={actions !== undefined}
    >
      {batches.map((batch) => {
        const { total, completed, failed } = batch.request_counts;
        const finished = batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at ?? null;
        return (
          <tr key={batch.id} data-batch-id={batch.id} data-status={batch.status}>
            <td className="mono">{batch.id}</td>
            {withTenant && <td className="mono">{batch.tenant_id}</td>}
            <td className="mono">{batch.endpoint}</td>
            <td data-testid="batch-status">
              <span className={`status-pill batch-${batch.status}`}>{t(`console.batches.status.${batch.status}` as MessageKey)}</span>
              {batch.errors && batch.errors.data.length > 0 && <div className="muted batch-note">{batch.errors.data[0]!.message}</div>}
            </td>
            <td>
              <span className="meter-wrap">
                <progress max={Math.max(total, 1)} value={completed + failed} aria-label={t('console.batches.progressLabel', { id: batch.id })} />
                <span data-testid="batch-counts">{t('console.batches.counts', { done: completed, total, failed })}</span>
              </span>
            </td>
            <td>{formatSeconds(batch.created_at, lang)}</td>
            <td>{formatSeconds(finished, lang)}</td>
            {actions && <td>{actions(batch)}</td>}
          </tr>
        );
      })}
    </DataTable>
  );
}

function CreateBatchForm({ onCreated }: { onCreated: () => void }) {
  const { t } = useI18n();
  const { api } = useConsole();
  const [endpoint, setEndpoint] = useState<string>(batchEndpoints[0]);
  const form = useUploadForm(async (file) => {
    const input = await api.uploadFile(file, 'batch');
    const batch = await api.createBatch({ input_file_id: input.id, endpoint, completion_window: '24h' });
    return batch.id;
  }, onCreated);
  return (
    <form key={form.formKey} className="card console-form" aria-label={t('console.batches.create')} onSubmit={form.onSubmit}>
      <h2>{t('console.batches.create')}</h2>
      <p className="muted">{t('console.batches.createHint')}</p>
      <div className="form-grid">
        <label>
          {t('console.batches.input')}
          <input name="batch-file" type="file" accept=".jsonl,application/jsonl,application/x-ndjson" required onChange={form.onFileChange} />
        </label>
        <label>
          {t('console.batches.endpoint')}
          <select name="batch-endpoint" value={endpoint} onChange={(event) => setEndpoint(event.target.value)}>
            {batchEndpoints.map((path) => (
              <option key={path} value={path}>
                {path}
              </option>
            ))}
          </select>
        </label>
      </div>
      {form.error ? <Problem error={form.error} /> : null}
      {form.done && (
        <p role="status" className="ok-text" data-testid="batch-created">
          {t('console.batches.createdOne', { id: form.done })}
        </p>
      )}
      <button type="submit" disabled={!form.ready}>
        {t('console.batches.createButton')}
      </button>
    </form>
  );
}
