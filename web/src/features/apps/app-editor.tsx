/** Make an app, or change one of yours; its owner also sees its use by day here. */
import { useEffect, useState, type FormEvent } from 'react';
import type { CreateAppRequest, WireApp, WireAppUsageDay, WireChatModel } from '../../../../src/contracts/apps-api.js';
import { api, ApiError } from '../../api/client.js';
import { toProblem, type Problem } from '../../api/problems.js';
import { useI18n } from '../../i18n/i18n.js';
import { navigate } from '../../router.js';
import { ProblemBanner } from '../../ui/problem-banner.js';

interface Form {
  name: string;
  icon: string;
  description: string;
  model: string;
  system_prompt: string;
  temperature: string;
  max_tokens: string;
  opening_message: string;
  suggested_questions: string;
  fallback_model: string;
  visibility: 'public' | 'private';
  daily_token_quota: string;
  advanced: string;
}

const blank: Form = {
  name: '', icon: '🤖', description: '', model: '', system_prompt: '', temperature: '', max_tokens: '', opening_message: '',
  suggested_questions: '', fallback_model: '', visibility: 'public', daily_token_quota: '20000', advanced: '{}',
};

function toForm(app: WireApp): Form {
  return {
    name: app.name, icon: app.icon, description: app.description, model: app.model ?? '', system_prompt: app.system_prompt,
    temperature: app.temperature === null ? '' : String(app.temperature), max_tokens: app.max_tokens === null ? '' : String(app.max_tokens),
    opening_message: app.opening_message, suggested_questions: app.suggested_questions.join('\n'), fallback_model: app.fallback_model ?? '',
    visibility: app.visibility, daily_token_quota: String(app.daily_token_quota), advanced: JSON.stringify(app.advanced),
  };
}

const orNull = (text: string) => (text.trim() === '' ? null : Number(text));

export function AppEditor({ slug }: { slug: string | null }) {
  const { t } = useI18n();
  const [form, setForm] = useState<Form>(blank);
  const [models, setModels] = useState<WireChatModel[]>([]);
  const [usage, setUsage] = useState<WireAppUsageDay[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  useEffect(() => {
    api.models().then(setModels, () => undefined);
    if (slug === null) return;
    api.app(slug).then((app) => setForm(toForm(app)), (error: unknown) => setProblem(toProblem(error)));
    api.appUsage(slug).then(setUsage, () => undefined);
  }, [slug]);

  const field = <K extends keyof Form>(key: K) => ({
    value: form[key],
    onChange: (event: { target: { value: string } }) => setForm({ ...form, [key]: event.target.value }),
  });

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setMessage(null);
    let advanced: CreateAppRequest['advanced'];
    try {
      advanced = JSON.parse(form.advanced || '{}') as CreateAppRequest['advanced'];
      if (typeof advanced !== 'object' || advanced === null || Array.isArray(advanced)) throw new Error('not an object');
    } catch {
      return setMessage(t('apps.invalidJson'));
    }
    const body = {
      name: form.name, icon: form.icon, description: form.description, model: form.model || null, system_prompt: form.system_prompt,
      temperature: orNull(form.temperature), max_tokens: orNull(form.max_tokens), opening_message: form.opening_message,
      suggested_questions: form.suggested_questions.split('\n').map((q) => q.trim()).filter(Boolean),
      fallback_model: form.fallback_model || null, visibility: form.visibility, daily_token_quota: Number(form.daily_token_quota), advanced,
    };
    try {
      const saved = slug === null ? await api.createApp(body) : await api.updateApp(slug, body);
      navigate(`/apps#${saved.slug}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setMessage(`${error.param ?? ''}: ${error.message}`);
      else setProblem(toProblem(error));
    }
  };

  const remove = async () => {
    if (slug === null || !window.confirm(t('apps.confirmDelete', { name: form.name }))) return;
    await api.deleteApp(slug).then(() => navigate('/apps'), (error: unknown) => setProblem(toProblem(error)));
  };

  const modelOptions = models.map((m) => (
    <option key={m.id} value={m.id}>
      {m.id}
    </option>
  ));

  return (
    <main className="app-editor">
      <h1>{slug === null ? t('apps.create') : `${t('apps.edit')}: ${form.name}`}</h1>
      <form className="card editor-form" onSubmit={(event) => void save(event)}>
        <label>{t('apps.name')}<input name="name" required maxLength={60} {...field('name')} /></label>
        <label>{t('apps.icon')}<input name="icon" required maxLength={16} {...field('icon')} /></label>
        <label>{t('apps.description')}<textarea name="description" rows={2} maxLength={500} {...field('description')} /></label>
        <label>
          {t('apps.model')}
          <select name="model" {...field('model')}>
            <option value="">{t('apps.modelAny')}</option>
            {modelOptions}
          </select>
        </label>
        <label>{t('apps.systemPrompt')}<textarea name="system_prompt" rows={4} {...field('system_prompt')} /></label>
        <label>{t('apps.temperature')}<input name="temperature" type="number" min={0} max={2} step={0.1} {...field('temperature')} /></label>
        <label>{t('apps.maxTokens')}<input name="max_tokens" type="number" min={1} {...field('max_tokens')} /></label>
        <label>{t('apps.opening')}<textarea name="opening_message" rows={2} {...field('opening_message')} /></label>
        <label>{t('apps.questions')}<textarea name="suggested_questions" rows={3} {...field('suggested_questions')} /></label>
        <label>
          {t('apps.fallback')}
          <select name="fallback_model" {...field('fallback_model')}>
            <option value="">{t('apps.none')}</option>
            {modelOptions}
          </select>
        </label>
        <label>
          {t('apps.visibility')}
          <select name="visibility" {...field('visibility')}>
            <option value="public">{t('apps.public')}</option>
            <option value="private">{t('apps.private')}</option>
          </select>
        </label>
        <label>{t('apps.quota')}<input name="daily_token_quota" type="number" min={0} required {...field('daily_token_quota')} /></label>
        <label>{t('apps.advanced')}<textarea name="advanced" rows={2} className="mono" {...field('advanced')} /></label>
        {message && <p className="form-error" role="alert">{message}</p>}
        {problem && <ProblemBanner problem={problem} onDismiss={() => setProblem(null)} />}
        <div className="row">
          <button type="submit">{t('apps.save')}</button>
          {slug !== null && <button type="button" className="danger" onClick={() => void remove()}>{t('apps.delete')}</button>}
        </div>
      </form>
      {slug !== null && <UsageTable usage={usage} />}
    </main>
  );
}

function UsageTable({ usage }: { usage: WireAppUsageDay[] }) {
  const { t } = useI18n();
  return (
    <section className="card">
      <h2>{t('apps.usage')}</h2>
      {usage.length === 0 ? (
        <p className="muted">{t('apps.usageEmpty')}</p>
      ) : (
        <table>
          <thead>
            <tr><th>{t('apps.day')}</th><th>{t('apps.tokens')}</th><th>{t('apps.requests')}</th><th>{t('apps.users')}</th></tr>
          </thead>
          <tbody>
            {usage.map((day) => (
              <tr key={day.day}><td>{day.day}</td><td>{day.tokens}</td><td>{day.requests}</td><td>{day.users}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
