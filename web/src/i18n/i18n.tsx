import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { templateOf, type MessageKey } from './dictionary.js';

export type Lang = 'en' | 'zh-CN';
export const languages: { id: Lang; label: string }[] = [
  { id: 'en', label: 'English' },
  { id: 'zh-CN', label: '简体中文' },
];

const storageKey = 'skylark.lang';

/** The stored choice, else the browser's: any Chinese locale gets zh-CN. */
export function detectLang(preferred: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  const stored = safeStorage()?.getItem(storageKey);
  if (stored === 'en' || stored === 'zh-CN') return stored;
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function translate(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = templateOf(lang === 'zh-CN', key);
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, values?: Record<string, string | number>): string;
  /** Dates and times in the chosen language. */
  formatTime(at: number): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => initial ?? detectLang());
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback((next: Lang) => {
    safeStorage()?.setItem(storageKey, next);
    setLangState(next);
  }, []);
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang,
      t: (key, values) => translate(lang, key, values),
      formatTime: (at) => new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(at),
    }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage blocked (private mode, policies)
  }
}
