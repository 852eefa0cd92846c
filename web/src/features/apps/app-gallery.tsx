/** Public apps for everyone; a member's own apps with edit and share. */
import { useEffect, useState } from 'react';
import type { WireApp, WireEndUser } from '../../../../src/contracts/apps-api.js';
import { api } from '../../api/client.js';
import { useI18n } from '../../i18n/i18n.js';
import { Link } from '../../router.js';

export function AppGallery({ user }: { user: WireEndUser }) {
  const { t } = useI18n();
  const [publicApps, setPublicApps] = useState<WireApp[]>([]);
  const [mine, setMine] = useState<WireApp[]>([]);
  useEffect(() => {
    api.apps('public').then(setPublicApps, () => undefined);
    if (user.kind === 'member') api.apps('mine').then(setMine, () => undefined);
  }, [user]);

  return (
    <main className="apps-page">
      <section>
        <div className="section-head">
          <h1>{t('apps.mine')}</h1>
          {user.kind === 'member' && (
            <Link to="/apps/new" className="button">
              + {t('apps.create')}
            </Link>
          )}
        </div>
        {user.kind !== 'member' ? (
          <p className="muted">{t('apps.membersOnly')}</p>
        ) : mine.length === 0 ? (
          <p className="muted">{t('apps.none.mine')}</p>
        ) : (
          <AppCards apps={mine} />
        )}
      </section>
      <section>
        <h2>{t('apps.gallery')}</h2>
        <AppCards apps={publicApps} />
      </section>
    </main>
  );
}

function AppCards({ apps }: { apps: WireApp[] }) {
  return (
    <ul className="app-cards">
      {apps.map((app) => (
        <AppCard key={app.slug} app={app} />
      ))}
    </ul>
  );
}

function AppCard({ app }: { app: WireApp }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const share = async () => {
    await navigator.clipboard.writeText(`${window.location.origin}/a/${app.slug}`).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <li className="card app-card" data-slug={app.slug}>
      <div className="app-card-head">
        <span className="app-icon" aria-hidden="true">
          {app.icon}
        </span>
        <h3>{app.name}</h3>
        {app.builtin && <span className="tag">{t('apps.builtin')}</span>}
      </div>
      <p className="muted">{app.description}</p>
      <div className="row">
        <Link to={app.slug === 'chat' ? '/' : `/a/${app.slug}`} className="button">
          {t('apps.open')}
        </Link>
        {app.owned && (
          <>
            <Link to={`/apps/${app.slug}/edit`} className="button secondary">
              {t('apps.edit')}
            </Link>
            <button type="button" className="secondary" onClick={() => void share()}>
              {copied ? t('apps.linkCopied') : t('apps.share')}
            </button>
          </>
        )}
      </div>
      <code className="share-link">/a/{app.slug}</code>
    </li>
  );
}
