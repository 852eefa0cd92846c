/**
 * The console for API customers at /console, loaded only when visited (the chat route
 * never downloads it or chart.js). It needs no web app account: the person pastes an API
 * key, and every page is that key's view of the HTTP API.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { TenantObject } from '../../../../src/contracts/admin-responses.js';
import { ApiError } from '../../api/client.js';
import { consoleEn, consoleZhCN } from '../../i18n/console-strings.js';
import { addStrings } from '../../i18n/dictionary.js';
import { useI18n } from '../../i18n/i18n.js';
import { Link, navigate, usePath } from '../../router.js';
import { LanguagePicker } from '../../ui/language-picker.js';
import { ConsoleApi } from './console-api.js';
import { ConsoleSessionProvider, forgetKey, identify, rememberKey, storedKey, useConsole, type Identity } from './console-session.js';
import { Problem } from './console-ui.js';
import { consolePages, pageFor } from './pages.js';
import './console.css';

addStrings(consoleEn, consoleZhCN);

type Known = { key: string; identity: Identity; tenants: TenantObject[] };

export default function ConsoleApp() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [known, setKnown] = useState<Known | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (key === null || known?.key === key) return;
    let current = true;
    setError(null);
    identify(new ConsoleApi(key)).then(
      (who) => current && setKnown({ key, ...who }),
      (failure: unknown) => {
        if (!current) return;
        setError(failure);
        // A key the server refuses is dropped; a network failure keeps it for a retry.
        if (failure instanceof ApiError && failure.code === 'invalid_api_key') {
          forgetKey();
          setKey(null);
        }
      },
    );
    return () => {
      current = false;
    };
  }, [key, known, attempt]);

  const signOut = useCallback(() => {
    forgetKey();
    setKnown(null);
    setKey(null);
    setError(null);
    navigate('/console');
  }, []);

  if (known === null || known.key !== key) {
    return (
      <Layout nav={null}>
        <KeyForm
          checking={key !== null && error === null}
          error={error}
          onRetry={() => setAttempt((a) => a + 1)}
          onKey={(pasted) => {
            rememberKey(pasted);
            setError(null);
            setKey(pasted);
          }}
        />
      </Layout>
    );
  }
  return (
    <ConsoleSessionProvider apiKey={known.key} identity={known.identity} initialTenants={known.tenants} onSignOut={signOut}>
      <Layout nav={<Nav />} header={<SessionBar />}>
        <CurrentPage />
      </Layout>
    </ConsoleSessionProvider>
  );
}

function CurrentPage() {
  const path = usePath();
  const { identity } = useConsole();
  const { t } = useI18n();
  const page = pageFor(path);
  if (!page || (page.admin && !identity.admin)) return <p className="empty-state">{t('console.noPage')}</p>;
  return <page.Component />;
}

function Layout({ nav, header, children }: { nav: ReactNode; header?: ReactNode; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="console-shell">
      <header className="topbar console-topbar">
        <Link to="/" className="brand">
          🐦 {t('app.name')}
        </Link>
        <span className="console-badge">{t('console.title')}</span>
        <span className="spacer" />
        {header}
        <LanguagePicker />
      </header>
      {nav}
      <main className="console-main">{children}</main>
    </div>
  );
}

function Nav() {
  const { t } = useI18n();
  const path = usePath();
  const { identity } = useConsole();
  const current = pageFor(path);
  const item = (page: (typeof consolePages)[number]) => (
    <li key={page.path}>
      <Link to={page.path} aria-current={current === page ? 'page' : undefined}>
        {t(page.title)}
      </Link>
    </li>
  );
  return (
    <nav className="console-nav" aria-label={t('console.title')}>
      <ul>{consolePages.filter((p) => !p.admin).map(item)}</ul>
      {identity.admin && (
        <>
          <p className="console-nav-group">{t('console.adminGroup')}</p>
          <ul>{consolePages.filter((p) => p.admin).map(item)}</ul>
        </>
      )}
    </nav>
  );
}

/** Whose view this is; an admin picks the tenant every page shows. */
function SessionBar() {
  const { t } = useI18n();
  const { identity, tenantId, setTenantId, tenants, signOut } = useConsole();
  return (
    <span className="session-bar">
      {identity.admin ? (
        <label className="tenant-picker">
          <span>{t('console.viewing')}</span>
          <select value={tenantId} onChange={(event) => setTenantId(event.target.value)} data-testid="tenant-picker">
            {tenants.map((tenant) => (
              <option key={tenant.id} value={tenant.id}>
                {tenant.name} ({tenant.id})
              </option>
            ))}
          </select>
        </label>
      ) : (
        <span className="muted" data-testid="tenant-id">
          {t('console.tenantKey', { tenant: tenantId })}
        </span>
      )}
      <button type="button" className="quiet small" onClick={signOut}>
        {t('console.forgetKey')}
      </button>
    </span>
  );
}

function KeyForm({ checking, error, onKey, onRetry }: { checking: boolean; error: unknown; onKey: (key: string) => void; onRetry: () => void }) {
  const { t } = useI18n();
  const [value, setValue] = useState('');
  return (
    <div className="console-page key-form-page">
      <h1>{t('console.title')}</h1>
      <p className="muted">{t('console.intro')}</p>
      <form
        className="card key-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim() !== '') onKey(value.trim());
        }}
      >
        <label>
          {t('console.apiKey')}
          <input
            name="api-key"
            type="password"
            autoComplete="off"
            placeholder="sk-…"
            aria-describedby="key-hint"
            value={value}
            onChange={(event) => setValue(event.target.value)}
            required
          />
        </label>
        <small id="key-hint" className="muted">
          {t('console.keyHint')}
        </small>
        {error ? <Problem error={error} onRetry={onRetry} /> : null}
        <button type="submit" disabled={checking}>
          {checking ? t('console.checking') : t('console.open')}
        </button>
      </form>
    </div>
  );
}
