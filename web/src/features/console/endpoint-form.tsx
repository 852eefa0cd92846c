/** The form that makes an ep-… endpoint: for the tenant in view (admin) or the key's own tenant. */
import { useState } from 'react';
import { useI18n } from '../../i18n/i18n.js';
import type { CreateEndpoint } from './console-api.js';
import { Problem, useAction } from './console-ui.js';

export function CreateEndpointForm({ onCreate }: { onCreate: (body: CreateEndpoint) => Promise<void> }) {
  const { t } = useI18n();
  const [model, setModel] = useState('');
  const [name, setName] = useState('');
  const [rpm, setRpm] = useState('');
  const [tpm, setTpm] = useState('');
  const [fallbacks, setFallbacks] = useState('');
  const { working, error, run } = useAction();
  const submit = () =>
    run(async () => {
      const chain = fallbacks.split(',').map((m) => m.trim()).filter(Boolean);
      await onCreate({
        model: model.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(rpm ? { rpm: Number(rpm) } : {}),
        ...(tpm ? { tpm: Number(tpm) } : {}),
        ...(chain.length > 0 ? { fallbacks: chain } : {}),
      });
      setName('');
    });
  return (
    <form
      className="card console-form"
      aria-label={t('console.endpoints.create')}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <h2>{t('console.endpoints.create')}</h2>
      <div className="form-grid">
        <label>
          {t('console.usage.model')}
          <input name="endpoint-model" value={model} onChange={(event) => setModel(event.target.value)} required />
        </label>
        <label>
          {t('console.keys.name')}
          <input name="endpoint-name" value={name} onChange={(event) => setName(event.target.value)} placeholder={model} maxLength={200} />
        </label>
        <label>
          RPM
          <input name="endpoint-rpm" type="number" min={1} value={rpm} onChange={(event) => setRpm(event.target.value)} placeholder="60" />
        </label>
        <label>
          TPM
          <input name="endpoint-tpm" type="number" min={1} value={tpm} onChange={(event) => setTpm(event.target.value)} placeholder="∞" />
        </label>
        <label>
          {t('console.endpoints.fallbacks')}
          <input name="endpoint-fallbacks" value={fallbacks} onChange={(event) => setFallbacks(event.target.value)} placeholder={t('console.optional')} />
        </label>
      </div>
      {error ? <Problem error={error} /> : null}
      <button type="submit" disabled={working}>
        {t('console.endpoints.create')}
      </button>
    </form>
  );
}
