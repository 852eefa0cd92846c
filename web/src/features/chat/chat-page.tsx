/**
 * A conversation (or a new one, in an app): the messages, the reply being written, its
 * place in line while it waits for compute, problems in words, and the composer.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { WireApp, WireQuota } from '../../../../src/contracts/apps-api.js';
import { api } from '../../api/client.js';
import { useI18n } from '../../i18n/i18n.js';
import { ProblemBanner } from '../../ui/problem-banner.js';
import { Composer, newDraftPrefix } from './composer.js';
import { AnswerAs, ImageAnswers, useMediaModels, type ImageAnswer } from './media-answers.js';
import { useConversations } from './conversations-context.js';
import { MessageList } from './message-list.js';
import { ModelSwitcher } from './model-switcher.js';
import { QueueStatus } from './queue-status.js';
import { useChat } from './use-chat.js';

interface Props {
  conversationId: string | null;
  /** For a new conversation: the app it is in. */
  appSlug: string;
}

export function ChatPage({ conversationId, appSlug }: Props) {
  const { t } = useI18n();
  const { reload } = useConversations();
  const [picked, setPicked] = useState<string | null>(null);
  const [quota, setQuota] = useState<WireQuota | null>(null);
  const [quotaVersion, setQuotaVersion] = useState(0);
  const changed = useCallback(() => {
    reload();
    setQuotaVersion((v) => v + 1);
  }, [reload]);
  const chat = useChat({ conversationId, appSlug, model: picked, onConversationsChanged: changed });
  const { state } = chat;
  const slug = state.conversation?.app ?? appSlug;
  const app = useApp(slug);
  const submitRef = useRef<(() => void) | null>(null);
  const media = useMediaModels();
  const [answerAs, setAnswerAs] = useState<string | null>(null);
  const [images, setImages] = useState<ImageAnswer[]>([]);
  const nextImage = useRef(0);

  /** An image answer: drawn by the chosen model, shown on this page (not stored in the conversation). */
  const draw = async (model: string, prompt: string): Promise<boolean> => {
    const id = nextImage.current++;
    setImages((all) => [...all, { id, prompt, model, src: null }]);
    try {
      const answer = await api.generateImage(model, prompt);
      const b64 = answer.data[0]?.b64_json;
      setImages((all) => all.map((image) => (image.id === id ? { ...image, src: b64 === undefined ? (answer.data[0]?.url ?? null) : `data:image/png;base64,${b64}` } : image)));
      return true;
    } catch (error) {
      setImages((all) => all.filter((image) => image.id !== id));
      chat.fail(error);
      return false;
    }
  };

  useEffect(() => setPicked(state.conversation?.model ?? null), [state.conversation?.id, state.conversation?.model]);
  useEffect(() => {
    api.quota(slug).then(setQuota, () => setQuota(null));
  }, [slug, quotaVersion]);

  const busy = state.streamingId !== null;
  const lastMessage = state.messages.at(-1);
  const retry = () => {
    if (state.problem?.kind === 'network' && busy) chat.resume();
    else if (state.problem?.kind === 'model' && lastMessage?.role === 'assistant' && lastMessage.status !== 'streaming') void chat.regenerate();
    else submitRef.current?.();
  };
  const userPicks = app !== null && app.model === null;

  if (state.notFound) return <main className="chat-page empty-state">{t('chat.notFound')}</main>;

  return (
    <main className="chat-page">
      <header className="chat-header">
        {app && (
          <h1 className="app-title">
            <span aria-hidden="true">{app.icon}</span> {app.name}
          </h1>
        )}
        {userPicks && <ModelSwitcher value={picked} onChange={setPicked} />}
        <AnswerAs models={media.images} value={answerAs} onChange={setAnswerAs} />
        {quota && (
          <span className="quota" data-testid="quota">
            {t('chat.quotaLeft', { left: Math.max(0, quota.limit - quota.used), limit: quota.limit })}
          </span>
        )}
      </header>
      {state.loading ? (
        <div className="empty-state">{t('chat.loading')}</div>
      ) : state.messages.length === 0 && images.length > 0 ? null : state.messages.length === 0 ? (
        <Opening app={app} onAsk={(question) => void chat.send(question)} />
      ) : (
        <MessageList
          messages={state.messages}
          busy={busy}
          onRegenerate={() => void chat.regenerate()}
          onEdit={(id, content) => void chat.send(content, id)}
        />
      )}
      <ImageAnswers answers={images} />
      <div className="chat-footer">
        {state.queue && <QueueStatus wait={state.queue} />}
        {state.problem && <ProblemBanner problem={state.problem} onRetry={retry} onDismiss={chat.dismiss} />}
        <Composer
          draftKey={state.conversation ? `skylark.draft.${state.conversation.id}` : `${newDraftPrefix}${slug}`}
          busy={busy}
          onSend={(text) => (answerAs === null ? chat.send(text) : draw(answerAs, text))}
          onStop={() => void chat.stop()}
          submitRef={submitRef}
        />
      </div>
    </main>
  );
}

function Opening({ app, onAsk }: { app: WireApp | null; onAsk: (question: string) => void }) {
  const { t } = useI18n();
  return (
    <div className="opening">
      {app?.description && <p className="muted">{app.description}</p>}
      <p className="opening-message">{app?.opening_message || t('chat.empty')}</p>
      {app && app.suggested_questions.length > 0 && (
        <ul className="suggestions">
          {app.suggested_questions.map((question) => (
            <li key={question}>
              <button type="button" onClick={() => onAsk(question)}>
                {question}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function useApp(slug: string): WireApp | null {
  const [app, setApp] = useState<WireApp | null>(null);
  useEffect(() => {
    let current = true;
    api.app(slug).then((found) => current && setApp(found), () => current && setApp(null));
    return () => {
      current = false;
    };
  }, [slug]);
  return app;
}
