import { useI18n } from '../../i18n/i18n.js';
import { useCountdown } from '../../ui/use-countdown.js';

export interface QueueWait {
  position: number;
  etaMs: number;
  /** Where the scheduler's estimate is uncertain, the range it gave (ms from `at`). */
  etaLowMs?: number;
  etaHighMs?: number;
  /** When the report arrived (ms since epoch): the wait counts down from there. */
  at: number;
}

/**
 * Where the request waits for compute, from the scheduler's `: queue …` reports: a
 * countdown, or "about 4–9 s" when the scheduler said its estimate is that uncertain (a
 * precise-looking number would be a false promise). Both ends count down.
 */
export function QueueStatus({ wait }: { wait: QueueWait }) {
  const { t } = useI18n();
  const ranged = wait.etaLowMs !== undefined && wait.etaHighMs !== undefined;
  const seconds = useCountdown(wait.at + wait.etaMs);
  const low = useCountdown(ranged ? wait.at + wait.etaLowMs! : null);
  const high = useCountdown(ranged ? wait.at + wait.etaHighMs! : null);
  let eta: string;
  if (ranged && high > 0) eta = low > 0 && low < high ? t('queue.etaRange', { low, high }) : t('queue.eta', { seconds: high });
  else eta = seconds > 0 ? t('queue.eta', { seconds }) : t('queue.soon');
  return (
    <div className="queue-status" role="status" aria-live="polite" data-testid="queue-status">
      <span className="queue-position">{t('queue.position', { position: wait.position })}</span>
      {' · '}
      <span className="queue-eta">{eta}</span>
    </div>
  );
}
