import { useState } from 'react';
import type { WireEndUser } from '../../../../src/contracts/apps-api.js';
import { api, ApiError } from '../../api/client.js';
import { toProblem, type Problem } from '../../api/problems.js';
import { useI18n } from '../../i18n/i18n.js';
import { ProblemBanner } from '../../ui/problem-banner.js';

/** Sign in, create an account, or continue as a guest. */
export function AuthPage({ onSignedIn, initialMode = 'signin' }: { onSignedIn: (user: WireEndUser) => void; initialMode?: 'signin' | 'signup' }) {
  const { t } = useI18n();
  const [mode, setMode] = useState<'signin' | 'signup'>(initialMode);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [working, setWorking] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const run = async (action: () => Promise<{ user: WireEndUser }>) => {
    setWorking(true);
    setMessage(null);
    setProblem(null);
    try {
      onSignedIn((await action()).user);
    } catch (error) {
      // Wrong password, taken name, bad input: the server's own words; the rest by kind.
      if (error instanceof ApiError && (error.status === 400 || error.status === 401)) setMessage(error.message);
      else setProblem(toProblem(error));
    } finally {
      setWorking(false);
    }
  };

  return (
    <main className="auth-page">
      <h1>{t('auth.title')}</h1>
      <p className="muted">{t('auth.subtitle')}</p>
      <form
        className="card auth-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => (mode === 'signin' ? api.signIn(username, password) : api.signUp(username, password)));
        }}
      >
        <h2>{mode === 'signin' ? t('auth.signIn') : t('auth.signUp')}</h2>
        <label>
          {t('auth.username')}
          <input name="username" autoComplete="username" value={username} onChange={(event) => setUsername(event.target.value)} required minLength={3} maxLength={32} />
        </label>
        <label>
          {t('auth.password')}
          <input
            name="password"
            type="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
            minLength={8}
          />
          {mode === 'signup' && <small className="muted">{t('auth.passwordHint')}</small>}
        </label>
        {message && (
          <p className="form-error" role="alert">
            {message}
          </p>
        )}
        {problem && <ProblemBanner problem={problem} onDismiss={() => setProblem(null)} />}
        <button type="submit" disabled={working}>
          {mode === 'signin' ? t('auth.signIn') : t('auth.signUp')}
        </button>
        <button type="button" className="link" onClick={() => setMode(mode === 'signin' ? 'signup' : 'signin')}>
          {mode === 'signin' ? t('auth.toSignUp') : t('auth.toSignIn')}
        </button>
      </form>
      <div className="card guest">
        <button type="button" className="secondary" disabled={working} onClick={() => void run(() => api.guest())}>
          {t('auth.guest')}
        </button>
        <p className="muted">{t('auth.guestHint')}</p>
      </div>
    </main>
  );
}
