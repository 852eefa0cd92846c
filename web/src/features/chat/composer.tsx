/**
 * Where the user types. The text stays until the server has accepted it: a refused or
 * failed send leaves it in the box, and a draft survives a reload (sessionStorage).
 */
import { useEffect, useRef, useState, type KeyboardEvent, type MutableRefObject } from 'react';
import { useI18n } from '../../i18n/i18n.js';

interface Props {
  draftKey: string;
  busy: boolean;
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
  disabled?: boolean;
  /** Set to this composer's submit, for a problem banner's "Retry". */
  submitRef?: MutableRefObject<(() => void) | null>;
}

/** Drafts of conversations not made yet are kept under this prefix (see ChatPage). */
export const newDraftPrefix = 'skylark.draft.new.';

function loadDraft(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function saveDraft(key: string, text: string): void {
  try {
    if (text === '') sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, text);
  } catch {
    // storage unavailable: the draft lives as long as the page
  }
}

export function Composer({ draftKey, busy, onSend, onStop, disabled = false, submitRef }: Props) {
  const { t } = useI18n();
  const [text, setText] = useState(() => loadDraft(draftKey));
  const [sending, setSending] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);

  const shownKey = useRef(draftKey);
  useEffect(() => {
    if (shownKey.current === draftKey) return;
    const from = shownKey.current;
    shownKey.current = draftKey;
    // A new conversation just got its id (its first send made it): the text in the box is
    // still this conversation's, whether or not that send went through.
    if (from.startsWith(newDraftPrefix)) {
      saveDraft(from, '');
      return;
    }
    setText(loadDraft(draftKey));
  }, [draftKey]);
  useEffect(() => saveDraft(draftKey, text), [draftKey, text]);

  const submit = async () => {
    const content = text.trim();
    if (content === '' || sending || busy || disabled) return;
    setSending(true);
    const sent = await onSend(content);
    setSending(false);
    if (sent) {
      setText('');
      saveDraft(draftKey, '');
    }
    box.current?.focus();
  };

  if (submitRef) submitRef.current = () => void submit();

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <textarea
        ref={box}
        aria-label={t('chat.messageLabel')}
        placeholder={t('chat.placeholder')}
        value={text}
        rows={2}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        disabled={disabled}
      />
      {busy ? (
        <button type="button" className="stop" onClick={onStop}>
          {t('chat.stop')}
        </button>
      ) : (
        <button type="submit" disabled={sending || disabled || text.trim() === ''}>
          {t('chat.send')}
        </button>
      )}
    </form>
  );
}
