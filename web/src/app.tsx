/** The page shell: who is signed in, the header, the sidebar, and which page shows. */
import { lazy, Suspense, useCallback, useEffect, useState, type ReactNode } from 'react';
import type { WireEndUser } from '../../src/contracts/apps-api.js';
import { api } from './api/client.js';
import { AppEditor } from './features/apps/app-editor.js';
import { AppGallery } from './features/apps/app-gallery.js';
import { AuthPage } from './features/auth/auth-page.js';
import { ChatPage } from './features/chat/chat-page.js';
import { ConversationList } from './features/chat/conversation-list.js';
import { ConversationsProvider } from './features/chat/conversations-context.js';
import { useI18n } from './i18n/i18n.js';
import { Link, match, navigate, usePath } from './router.js';
import { LanguagePicker } from './ui/language-picker.js';

// Its own chunk (with chart.js): the chat route never downloads it.
const ConsoleApp = lazy(() => import('./features/console/console-app.js'));

export function App() {
  const path = usePath();
  // The console signs in with an API key, not a web app account.
  if (path === '/console' || path.startsWith('/console/')) {
    return (
      <Suspense fallback={<div className="boot" aria-busy="true" />}>
        <ConsoleApp />
      </Suspense>
    );
  }
  return <WebApp />;
}

function WebApp() {
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
  const { t } = useI18n();
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
            <Link to="/console">{t('nav.console')}</Link>
          </nav>
        )}
        <span className="spacer" />
        <LanguagePicker />
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
