/** The sidebar: conversations newest first, search over every message, rename, delete. */
import { useEffect, useState } from 'react';
import type { WireConversation, WireSearchHit } from '../../../../src/contracts/apps-api.js';
import { api } from '../../api/client.js';
import { useI18n } from '../../i18n/i18n.js';
import { Link, navigate } from '../../router.js';
import { useConversations } from './conversations-context.js';

export function ConversationList({ activeId, onPick }: { activeId: string | null; onPick: () => void }) {
  const { t } = useI18n();
  const { list, reload } = useConversations();
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<WireSearchHit[] | null>(null);

  useEffect(() => {
    if (query.trim() === '') {
      setHits(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      api.search(query).then((found) => current && setHits(found), () => current && setHits([]));
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);

  return (
    <nav className="conversation-list" aria-label={t('nav.menu')}>
      <Link to="/" className="button new-chat" onClick={onPick}>
        + {t('nav.newChat')}
      </Link>
      <input
        type="search"
        className="search"
        aria-label={t('list.search')}
        placeholder={t('list.search')}
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      {hits !== null ? (
        <ul className="search-results" data-testid="search-results">
          {hits.length === 0 && <li className="muted">{t('list.noResults')}</li>}
          {hits.map((hit) => (
            <li key={hit.message_id}>
              <Link to={`/c/${hit.conversation_id}`} onClick={onPick}>
                <strong>{hit.conversation_title}</strong>
                <span className="snippet">{hit.snippet}</span>
              </Link>
            </li>
          ))}
        </ul>
      ) : (
        <ul className="conversations">
          {list.length === 0 && <li className="muted">{t('list.empty')}</li>}
          {list.map((conversation) => (
            <ConversationItem key={conversation.id} conversation={conversation} active={conversation.id === activeId} onPick={onPick} onChanged={reload} />
          ))}
        </ul>
      )}
    </nav>
  );
}

function ConversationItem({ conversation, active, onPick, onChanged }: { conversation: WireConversation; active: boolean; onPick: () => void; onChanged: () => void }) {
  const { t } = useI18n();
  const [title, setTitle] = useState<string | null>(null);

  const rename = async () => {
    if (title === null || title.trim() === '' || title === conversation.title) return setTitle(null);
    await api.rename(conversation.id, title.trim()).catch(() => undefined);
    setTitle(null);
    onChanged();
  };

  const remove = async () => {
    if (!window.confirm(t('list.confirmDelete', { title: conversation.title }))) return;
    await api.deleteConversation(conversation.id).catch(() => undefined);
    onChanged();
    if (active) navigate('/');
  };

  return (
    <li className={active ? 'active' : undefined}>
      {title !== null ? (
        <form
          className="rename"
          onSubmit={(event) => {
            event.preventDefault();
            void rename();
          }}
        >
          <input aria-label={t('list.title')} value={title} autoFocus onChange={(event) => setTitle(event.target.value)} onBlur={() => void rename()} />
        </form>
      ) : (
        <Link to={`/c/${conversation.id}`} onClick={onPick} aria-current={active ? 'page' : undefined}>
          {conversation.app !== 'chat' && <span className="tag">{conversation.app}</span>}
          {conversation.title}
        </Link>
      )}
      <span className="item-actions">
        <button type="button" className="quiet small" onClick={() => setTitle(conversation.title)} aria-label={`${t('list.rename')}: ${conversation.title}`}>
          ✎
        </button>
        <button type="button" className="quiet small" onClick={() => void remove()} aria-label={`${t('list.delete')}: ${conversation.title}`}>
          ✕
        </button>
      </span>
    </li>
  );
}
