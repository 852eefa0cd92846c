/**
 * Images and speech where a model offers them: "answer as" an image model in the composer
 * (the answer is drawn, not written), the drawn answers, and "Play" on a written answer
 * when a speech model exists. What models offer is asked once per page load.
 */
import { useEffect, useRef, useState } from 'react';
import type { WireMediaModels } from '../../../../src/contracts/media-responses.js';
import { api } from '../../api/client.js';
import { useI18n } from '../../i18n/i18n.js';

const none: WireMediaModels = { images: [], speech: null };
let asked: Promise<WireMediaModels> | undefined;

export function useMediaModels(): WireMediaModels {
  const [models, setModels] = useState<WireMediaModels>(none);
  useEffect(() => {
    let current = true;
    asked ??= api.mediaModels().catch(() => {
      asked = undefined; // ask again next time
      return none;
    });
    void asked.then((found) => current && setModels(found));
    return () => {
      current = false;
    };
  }, []);
  return models;
}

/** null: answers are written by the chat model. */
export function AnswerAs({ models, value, onChange }: { models: string[]; value: string | null; onChange: (model: string | null) => void }) {
  const { t } = useI18n();
  if (models.length === 0) return null;
  return (
    <label className="model-switcher answer-as">
      <span>{t('chat.answerAs')}</span>
      <select value={value ?? ''} onChange={(event) => onChange(event.target.value === '' ? null : event.target.value)}>
        <option value="">{t('chat.answerText')}</option>
        {models.map((model) => (
          <option key={model} value={model}>
            {model}
          </option>
        ))}
      </select>
    </label>
  );
}

export interface ImageAnswer {
  id: number;
  prompt: string;
  model: string;
  /** A data: URL; null while it is drawn. */
  src: string | null;
}

/** The images drawn on this page, newest last; they live as long as the page. */
export function ImageAnswers({ answers }: { answers: ImageAnswer[] }) {
  const { t } = useI18n();
  if (answers.length === 0) return null;
  return (
    <section className="image-answers">
      {answers.map((answer) => (
        <article key={answer.id} className="message image-answer">
          <header className="message-author">{answer.model}</header>
          <p className="muted">{answer.prompt}</p>
          {answer.src === null ? <p>{t('chat.drawing')}</p> : <img src={answer.src} alt={t('chat.imageAlt', { prompt: answer.prompt })} />}
        </article>
      ))}
    </section>
  );
}

export function PlayButton({ text }: { text: string }) {
  const { t } = useI18n();
  const [playing, setPlaying] = useState(false);
  const audio = useRef<HTMLAudioElement | null>(null);
  useEffect(() => () => audio.current?.pause(), []);
  const play = async () => {
    setPlaying(true);
    try {
      const url = URL.createObjectURL(await api.speak(text));
      const element = new Audio(url);
      audio.current = element;
      element.dataset.testid = 'speech';
      element.onended = () => {
        URL.revokeObjectURL(url);
        setPlaying(false);
      };
      await element.play();
    } catch {
      setPlaying(false); // refused or not playable: the button comes back
    }
  };
  return (
    <button type="button" className="quiet" disabled={playing} onClick={() => void play()}>
      {playing ? t('chat.playing') : t('chat.play')}
    </button>
  );
}
