// Sign-in with an API key: checked with one cheap call before it is kept, so a wrong key is told at once.
import { useState, type SyntheticEvent } from 'react';
import { ApiError, call, makeClient } from '../api/client';
import { useSession } from '../auth/session';

export function SignIn() {
  const { signIn, reason } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    const candidate = key.trim();
    if (candidate === '') {
      setError('Enter your API key.');
      return;
    }
    setChecking(true);
    setError(null);
    try {
      const probe = makeClient({ apiKey: candidate, onUnauthorized: () => undefined });
      await call(probe.GET('/campaigns', { params: { query: { page_size: 1 } } }));
      signIn(candidate);
    } catch (exc) {
      setError(
        exc instanceof ApiError && exc.status === 401
          ? 'That key was not accepted. Check it and try again.'
          : `Could not reach the API: ${exc instanceof Error ? exc.message : String(exc)}`,
      );
      setChecking(false);
    }
  }

  const shown = error ?? reason;
  return (
    <main id="main" className="sign-in">
      <form className="card sign-in-card" onSubmit={(event) => void submit(event)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Campaign Dispatch</h1>
        <p className="muted">Sign in with the API key of your account.</p>
        {shown !== null && (
          <p className="form-error" role="alert">
            {shown}
          </p>
        )}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(event) => {
            setKey(event.target.value);
          }}
          aria-invalid={shown !== null}
          autoFocus
        />
        <p className="hint">Kept for this browser tab only (sessionStorage), sent as a Bearer token.</p>
        <button type="submit" className="button primary" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
