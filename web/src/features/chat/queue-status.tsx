import { useI18n } from '../../i18n/i18n.js';
import { useCountdown } from '../../ui/use-countdown.js';

export interface QueueWait {
  position: number;
  etaMs: number;
  /** When the report arrived (ms since epoch): the wait counts down from there. */
  at: number;
}

/** Where the request waits for compute, from the scheduler's `: queue …` reports. */
export function QueueStatus({ wait }: { wait: QueueWait }) {
  const { t } = useI18n();
  const seconds = useCountdown(wait.at + wait.etaMs);
  return (
    <div className="queue-status" role="status" aria-live="polite" data-testid="queue-status">
      <span className="queue-position">{t('queue.position', { position: wait.position })}</span>
      {' · '}
      <span className="queue-eta">{seconds > 0 ? t('queue.eta', { seconds }) : t('queue.soon')}</span>
    </div>
  );
}
