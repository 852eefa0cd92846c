import type { Problem } from '../api/problems.js';
import { useI18n } from '../i18n/i18n.js';
import { useCountdown } from './use-countdown.js';

interface Props {
  problem: Problem;
  /** Absent: the problem cannot be retried from here. */
  onRetry?: (() => void) | undefined;
  onDismiss: () => void;
}

/** One problem, in words, with what can be done about it. */
export function ProblemBanner({ problem, onRetry, onDismiss }: Props) {
  const { t, formatTime } = useI18n();
  const seconds = useCountdown(problem.kind === 'overloaded' ? problem.retryAt : null);
  let text: string;
  switch (problem.kind) {
    case 'quota':
      text = t('error.quota', { time: formatTime(problem.resetsAt) });
      break;
    case 'overloaded':
      text = seconds > 0 ? t('error.overloaded', { seconds }) : t('error.overloadedReady');
      break;
    case 'network':
      text = t('error.network');
      break;
    case 'model':
      text = t('error.model', { code: problem.code });
      break;
    case 'signin':
      text = t('error.signIn');
      break;
    case 'other':
      text = t('error.generic', { message: problem.message });
      break;
  }
  const canRetry = onRetry !== undefined && problem.kind !== 'quota' && problem.kind !== 'signin';
  return (
    <div className={`problem problem-${problem.kind}`} role="alert" data-problem={problem.kind}>
      <span className="problem-text">{text}</span>
      {canRetry && (
        <button type="button" onClick={onRetry} disabled={problem.kind === 'overloaded' && seconds > 0}>
          {t('error.retry')}
        </button>
      )}
      <button type="button" className="quiet" onClick={onDismiss}>
        {t('error.dismiss')}
      </button>
    </div>
  );
}
