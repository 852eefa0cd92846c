/** The page shell: who is signed in, the header, the sidebar, and which page shows. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { WireEndUser } from '../../src/contracts/apps-api.js';
import { api } from './api/client.js';
import { AppEditor } from './features/apps/app-editor.js';
import { AppGallery } from './features/apps/app-gallery.js';
import { AuthPage } from './features/auth/auth-page.js';
import { ChatPage } from './features/chat/chat-page.js';
import { ConversationList } from './features/chat/conversation-list.js';
import { ConversationsProvider } from './features/chat/conversations-context.js';
import { languages, useI18n, type Lang } from './i18n/i18n.js';
import { Link, match, navigate, usePath } from './router.js';

export function App() {
  const [user, setUser] = useState<WireEndUser | null | undefined>(undefined);
  useEffect(() => {
    api.session().then((session) => setUser(session.user), () => setUser(null));
  }, []);
  const signOut = useCallback(async () => {
    await api.signOut().catch(() => undefined);
    setUser(null);
    navigate('/');
  }, []);

  if (user === undefined) return <div className="boot" aria-busy="true" />;
  if (user === null) {
    return (
      <Shell user={null} onSignOut={signOut} sidebar={null}>
        <AuthPage onSignedIn={setUser} />
      </Shell>
    );
  }
  return (
    <ConversationsProvider userId={user.id}>
      <Routes user={user} onUser={setUser} onSignOut={signOut} />
    </ConversationsProvider>
  );
}

function Routes({ user, onUser, onSignOut }: { user: WireEndUser; onUser: (user: WireEndUser) => void; onSignOut: () => void }) {
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  const conversation = match('/c/:id', path);
  const shared = match('/a/:slug', path);
  const editing = match('/apps/:slug/edit', path);
  const sidebar = <ConversationList activeId={conversation?.id ?? null} onPick={() => setMenuOpen(false)} />;

  let page: ReactNode;
  let withSidebar = true;
  if (path === '/apps') {
    page = <AppGallery user={user} />;
    withSidebar = false;
  } else if (path === '/apps/new' || editing) {
    page = <AppEditor slug={editing?.slug ?? null} />;
    withSidebar = false;
  } else if (path === '/signup' && user.kind === 'guest') {
    page = (
      <AuthPage
        initialMode="signup"
        onSignedIn={(member) => {
          onUser(member);
          navigate('/');
        }}
      />
    );
    withSidebar = false;
  } else {
    page = <ChatPage conversationId={conversation?.id ?? null} appSlug={shared?.slug ?? 'chat'} />;
  }
  return (
    <Shell user={user} onSignOut={onSignOut} sidebar={withSidebar ? sidebar : null} menuOpen={menuOpen} onMenu={() => setMenuOpen(!menuOpen)}>
      {page}
    </Shell>
  );
}

interface ShellProps {
  user: WireEndUser | null;
  onSignOut: () => void;
  sidebar: ReactNode;
  children: ReactNode;
  menuOpen?: boolean;
  onMenu?: () => void;
}

function Shell({ user, onSignOut, sidebar, children, menuOpen = false, onMenu }: ShellProps) {
  const { t, lang, setLang } = useI18n();
  return (
    <div className={`shell${sidebar ? ' with-sidebar' : ''}${menuOpen ? ' menu-open' : ''}`}>
      <header className="topbar">
        {sidebar && (
          <button type="button" className="menu-button quiet" aria-label={t('nav.menu')} aria-expanded={menuOpen} onClick={onMenu}>
            ☰
          </button>
        )}
        <Link to="/" className="brand">
          🐦 {t('app.name')}
        </Link>
        {user && (
          <nav className="main-nav" aria-label="main">
            <Link to="/">{t('nav.chat')}</Link>
            <Link to="/apps">{t('nav.apps')}</Link>
          </nav>
        )}
        <span className="spacer" />
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
        {user && (
          <span className="user">
            <span className="user-name">{user.username ?? t('nav.guest')}</span>
            {user.kind === 'guest' && (
              <Link to="/signup" className="button secondary small">
                {t('nav.signUp')}
              </Link>
            )}
            <button type="button" className="quiet small" onClick={onSignOut}>
              {t('nav.signOut')}
            </button>
          </span>
        )}
      </header>
      {sidebar && <aside className="sidebar">{sidebar}</aside>}
      <div className="content">{children}</div>
    </div>
  );
}
