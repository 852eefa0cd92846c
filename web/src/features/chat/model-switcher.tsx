import { useEffect, useState } from 'react';
import type { WireChatModel } from '../../../../src/contracts/apps-api.js';
import { api } from '../../api/client.js';
import { useI18n } from '../../i18n/i18n.js';

/** For apps that let the user pick the model (the built-in Chat). */
export function ModelSwitcher({ value, onChange }: { value: string | null; onChange: (model: string) => void }) {
  const { t } = useI18n();
  const [models, setModels] = useState<WireChatModel[]>([]);
  useEffect(() => {
    api.models().then(setModels, () => setModels([]));
  }, []);
  useEffect(() => {
    if (value === null && models[0]) onChange(models[0].id);
  }, [value, models, onChange]);
  if (models.length === 0) return null;
  return (
    <label className="model-switcher">
      <span>{t('chat.model')}</span>
      <select value={value ?? ''} onChange={(event) => onChange(event.target.value)}>
        {models.map((model) => (
          <option key={model.id} value={model.id}>
            {model.id}
          </option>
        ))}
      </select>
    </label>
  );
}
