/** Pieces every console page uses: loading data, problems in words, secrets shown once, money. */
import { useCallback, useEffect, useMemo, useRef, useState, type DependencyList, type ReactNode } from 'react';
import { ApiError } from '../../api/client.js';
import { useI18n } from '../../i18n/i18n.js';
import { useCountdown } from '../../ui/use-countdown.js';
import { describeError } from './console-errors.js';
import { useOptionalConsole } from './console-session.js';

/**
 * A form's submit: one at a time (`working` disables the button), its failure kept to show
 * with <Problem>, cleared by the next success.
 */
export function useAction(): { working: boolean; error: unknown; run: (action: () => Promise<void>) => Promise<void> } {
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setWorking(true);
    try {
      await action();
      setError(null);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(false);
    }
  }, []);
  return { working, error, run };
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` now and whenever `deps` change (and every `everyMs`, when given). An answer
 * that arrives after a newer request started is dropped, so a slow reply never overwrites
 * a fresher one.
 */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList, everyMs?: number): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const run = () => {
      const ticket = ++latest.current;
      setLoading(true);
      load().then(
        (value) => {
          if (ticket !== latest.current) return;
          setData(value);
          setError(null);
        },
        (failure: unknown) => ticket === latest.current && setError(failure),
      ).finally(() => {
        if (ticket === latest.current) setLoading(false);
        if (live && everyMs !== undefined) timer = setTimeout(run, everyMs);
      });
    };
    run();
    return () => {
      live = false;
      latest.current++;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, version, everyMs]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data, error, loading, reload };
}

/** An API error as words with a way forward: retry (after Retry-After), or paste another key. */
export function Problem({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  // A key revoked while the console is open: back to the key form.
  const onChangeKey = useOptionalConsole()?.signOut;
  const problem = useMemo(() => describeError(error), [error]);
  const seconds = useCountdown(problem.retryAt ?? null);
  const text = problem.retryAt !== undefined && seconds > 0 ? t('console.error.busyWait', { seconds }) : t(problem.key, problem.values);
  return (
    <div className="problem console-problem" role="alert" data-code={error instanceof ApiError ? error.code : 'network'}>
      <span className="problem-text">{text}</span>
      {problem.retryable && onRetry && (
        <button type="button" onClick={onRetry} disabled={seconds > 0}>
          {t('error.retry')}
        </button>
      )}
      {problem.badKey && onChangeKey && (
        <button type="button" className="secondary" onClick={onChangeKey}>
          {t('console.changeKey')}
        </button>
      )}
    </div>
  );
}

/** A result that only exists in this answer (an sk- key, redeem codes): copy it now. */
export function ShownOnce({ title, secrets, onDone }: { title: string; secrets: string[]; onDone: () => void }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(secrets.join('\n')).catch(() => undefined);
    setCopied(true);
  };
  return (
    <section className="card shown-once" aria-labelledby="shown-once-title">
      <h2 id="shown-once-title">{title}</h2>
      <p className="warning-text">{t('console.shownOnce')}</p>
      <ul className="secrets">
        {secrets.map((secret) => (
          <li key={secret}>
            <code className="secret" data-testid="secret">
              {secret}
            </code>
          </li>
        ))}
      </ul>
      <div className="row">
        <button type="button" onClick={() => void copy()}>
          {copied ? t('console.copied') : t('console.copy')}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t('console.savedIt')}
        </button>
      </div>
    </section>
  );
}

export function formatMoney(micros: number, currency: string, lang: string): string {
  return new Intl.NumberFormat(lang, { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 6 }).format(micros / 1e6);
}

export function formatSeconds(unixSeconds: number | null, lang: string): string {
  if (unixSeconds === null) return '–';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(unixSeconds * 1000);
}

export function formatNumber(value: number, lang: string): string {
  return new Intl.NumberFormat(lang).format(value);
}

export function PageTitle({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="section-head">
      <h1>{children}</h1>
      {actions}
    </div>
  );
}

/** Said where a tenant key cannot see something the admin key can. */
export function AdminNote({ children }: { children: ReactNode }) {
  return (
    <p className="card admin-note" data-testid="admin-note">
      {children}
    </p>
  );
}

/** `loading` until the first answer; then the data (a failed refresh keeps the last one shown). */
export function Loading({ state, children, onRetry }: { state: Loaded<unknown>; children: ReactNode; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <>
      {state.error ? <Problem error={state.error} onRetry={onRetry ?? state.reload} /> : null}
      {state.data === undefined ? state.error ? null : <p className="muted" aria-busy="true">{t('chat.loading')}</p> : children}
    </>
  );
}

/**
 * A console table: a box that scrolls sideways (and takes focus, so keyboards can scroll
 * it), one header row naming the columns, the rows given as children. `actions` adds a
 * last column for per-row buttons, named for screen readers only.
 */
export function DataTable({
  testId,
  caption,
  columns,
  actions = false,
  children,
}: {
  testId?: string;
  caption?: string;
  columns: ReactNode[];
  actions?: boolean;
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <div className="table-scroll" tabIndex={0}>
      <table data-testid={testId}>
        {caption !== undefined && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column, index) => (
              <th scope="col" key={index}>
                {column}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="visually-hidden">{t('console.actions')}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
