import { languages, useI18n, type Lang } from '../i18n/i18n.js';

/** The language switch in every page's top bar; the choice is remembered (i18n.tsx). */
export function LanguagePicker() {
  const { t, lang, setLang } = useI18n();
  return (
    <label className="language">
      <span className="visually-hidden">{t('nav.language')}</span>
      <select value={lang} onChange={(event) => setLang(event.target.value as Lang)} aria-label={t('nav.language')}>
        {languages.map((language) => (
          <option key={language.id} value={language.id}>
            {language.label}
          </option>
        ))}
      </select>
    </label>
  );
}
