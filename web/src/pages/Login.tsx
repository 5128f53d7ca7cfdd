// The login screen: an API token (the dev command prints the first admin's; `flotilla token
// create` makes more), checked with GET /v1/me before it is kept in localStorage.
import { type FormEvent, useState } from 'react';
import { ApiError, describeError, request } from '../api';
import type { Me } from '../types';

export function Login({ notice, onToken }: { notice: string; onToken(token: string, me: Me): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Paste an API token first.');
    setBusy(true);
    setError('');
    try {
      const answer = await request<Me>('GET', '/v1/me', { token: t });
      onToken(t, answer.body!);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401
        ? 'That token was refused (401): it is wrong, expired or revoked. Check it, or ask an admin for a new one.'
        : describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login">
      <form onSubmit={submit} className="login-card">
        <h1><span className="logo" aria-hidden>▮▮▮</span> Flotilla</h1>
        <p className="muted">The fleet dashboard. Sign in with an API token.</p>
        {notice && <div className="state error" role="alert" data-testid="login-notice">{notice}</div>}
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" autoFocus placeholder="flt_…" value={token} onChange={(e) => setToken(e.target.value)} />
        {error && <div className="form-error" role="alert">{error}</div>}
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
        <p className="hint">The dev command (<code>./scripts/dev.sh</code>) prints an admin token on its first run; an admin makes more with <code>POST /v1/tokens</code>. The token stays in this browser only.</p>
      </form>
    </div>
  );
}
