/**
 * Files (OpenAI's Files API) of the key's tenant: upload (purpose `batch`), list with
 * "Load more", download, delete. Files are a tenant's own: the admin key is told to open
 * the console with the tenant's key instead (there is no admin route to another tenant's
 * files, on purpose).
 */
import { useState } from 'react';
import { useI18n } from '../../i18n/i18n.js';
import type { FileObject } from './console-api.js';
import { useConsole } from './console-session.js';
import { AdminNote, DataTable, formatSeconds, PageTitle, Problem } from './console-ui.js';
import { useCursorList } from './cursor-list.js';
import { downloadFile, formatBytes } from './file-download.js';
import { useUploadForm } from './upload-form.js';

export function FilesPage() {
  const { t } = useI18n();
  const { identity } = useConsole();
  return (
    <div className="console-page">
      <PageTitle>{t('console.nav.files')}</PageTitle>
      {identity.admin ? <AdminNote>{t('console.files.adminNote')}</AdminNote> : <OwnFiles />}
    </div>
  );
}

function OwnFiles() {
  const { t, lang } = useI18n();
  const { api } = useConsole();
  const list = useCursorList((after) => api.files(after), [api]);
  const [error, setError] = useState<unknown>(null);

  const remove = async (file: FileObject) => {
    if (!window.confirm(t('console.files.confirmDelete', { name: file.filename, id: file.id }))) return;
    try {
      await api.deleteFile(file.id);
      setError(null);
      list.remove(file.id);
      await list.refresh();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <>
      <UploadForm onUploaded={() => void list.refresh()} />
      <section className="card" aria-labelledby="files-title">
        <h2 id="files-title">{t('console.files.list')}</h2>
        {error ? <Problem error={error} /> : null}
        {list.error ? <Problem error={list.error} onRetry={() => void list.refresh()} /> : null}
        {list.items === undefined ? (
          list.error ? null : (
            <p className="muted" aria-busy="true">
              {t('chat.loading')}
            </p>
          )
        ) : list.items.length === 0 ? (
          <p className="muted">{t('console.files.none')}</p>
        ) : (
          <DataTable
            testId="files"
            columns={[t('console.files.name'), 'Id', t('console.files.purpose'), t('console.files.size'), t('console.created')]}
            actions
          >
            {list.items.map((file) => (
              <tr key={file.id} data-file-id={file.id}>
                <td>{file.filename}</td>
                <td className="mono">{file.id}</td>
                <td>{file.purpose}</td>
                <td className="num" title={t('console.files.bytes', { bytes: file.bytes })}>
                  {formatBytes(file.bytes, lang)}
                </td>
                <td>{formatSeconds(file.created_at, lang)}</td>
                <td>
                  <div className="row">
                    <button
                      type="button"
                      className="small secondary"
                      onClick={() => void downloadFile(api, file.id, file.filename).then(() => setError(null), setError)}
                    >
                      {t('console.files.download')}
                    </button>
                    <button type="button" className="small danger" onClick={() => void remove(file)}>
                      {t('console.files.delete')}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </DataTable>
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

function UploadForm({ onUploaded }: { onUploaded: () => void }) {
  const { t } = useI18n();
  const { api } = useConsole();
  const form = useUploadForm(async (file) => {
    const uploaded = await api.uploadFile(file, 'batch');
    return { name: uploaded.filename, id: uploaded.id };
  }, onUploaded);
  return (
    <form key={form.formKey} className="card console-form" aria-label={t('console.files.upload')} onSubmit={form.onSubmit}>
      <h2>{t('console.files.upload')}</h2>
      <p className="muted">{t('console.files.uploadHint')}</p>
      <div className="form-grid">
        <label>
          {t('console.files.file')}
          <input name="upload-file" type="file" required onChange={form.onFileChange} />
        </label>
        <label>
          {t('console.files.purpose')}
          <input name="upload-purpose" value="batch" readOnly />
        </label>
      </div>
      {form.error ? <Problem error={form.error} /> : null}
      {form.done && (
        <p role="status" className="ok-text" data-testid="file-uploaded">
          {t('console.files.uploaded', form.done)}
        </p>
      )}
      <button type="submit" disabled={!form.ready}>
        {t('console.files.uploadButton')}
      </button>
    </form>
  );
}
