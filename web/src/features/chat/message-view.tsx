import { memo, useState } from 'react';
import type { WireMessage } from '../../../../src/contracts/apps-api.js';
import { useI18n } from '../../i18n/i18n.js';
import { Markdown } from './markdown.js';
import { PlayButton, useMediaModels } from './media-answers.js';

interface Props {
  message: WireMessage;
  /** Offered on the last reply only. */
  onRegenerate?: (() => void) | undefined;
  /** Offered on the user's messages while no reply is being written. */
  onEdit?: ((content: string) => void) | undefined;
}

export const MessageView = memo(function MessageView({ message, onRegenerate, onEdit }: Props) {
  const { t } = useI18n();
  const [editing, setEditing] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const mine = message.role === 'user';
  const { speech } = useMediaModels();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(message.content);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // clipboard refused (permissions): nothing to tell the user beyond no "Copied"
    }
  };

  const status =
    message.status === 'streaming' ? t('chat.writing')
    : message.status === 'stopped' ? (message.error_code === 'interrupted' ? t('chat.interrupted') : t('chat.stopped'))
    : message.status === 'error' ? `${t('chat.failed')} (${message.error_code ?? ''})`
    : null;

  return (
    <article className={`message message-${message.role}`} data-status={message.status} data-message-id={message.id}>
      <header className="message-author">{mine ? t('chat.you') : (message.model ?? t('chat.assistant'))}</header>
      {editing !== null ? (
        <form
          className="message-edit"
          onSubmit={(event) => {
            event.preventDefault();
            if (editing.trim() === '') return;
            onEdit?.(editing);
            setEditing(null);
          }}
        >
          <textarea aria-label={t('chat.edit')} value={editing} onChange={(event) => setEditing(event.target.value)} rows={3} />
          <div className="row">
            <button type="submit">{t('chat.save')}</button>
            <button type="button" className="quiet" onClick={() => setEditing(null)}>
              {t('chat.cancel')}
            </button>
          </div>
        </form>
      ) : mine ? (
        <div className="message-body plain">{message.content}</div>
      ) : (
        <div className="message-body">
          <Markdown text={message.content} />
        </div>
      )}
      <footer className="message-actions">
        {status && <span className={`message-status status-${message.status}`}>{status}</span>}
        {message.status !== 'streaming' && message.content !== '' && (
          <button type="button" className="quiet" onClick={() => void copy()}>
            {copied ? t('chat.copied') : t('chat.copy')}
          </button>
        )}
        {!mine && speech !== null && message.status === 'complete' && message.content !== '' && <PlayButton text={message.content} />}
        {mine && onEdit && editing === null && (
          <button type="button" className="quiet" onClick={() => setEditing(message.content)}>
            {t('chat.edit')}
          </button>
        )}
        {onRegenerate && (
          <button type="button" className="quiet" onClick={onRegenerate}>
            {t('chat.regenerate')}
          </button>
        )}
      </footer>
    </article>
  );
});
