// The shell: the login screen until a token works, then GET /v1/me and the dashboard config,
// one live event stream (GET /v1/events) shared by every page, the header and the routes.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { auth, describeError, request } from './api';
import { type Session, SessionContext } from './live';
import { Login } from './pages/Login';
import { FleetPage } from './pages/Fleet';
import { EnvironmentPage } from './pages/Environment';
import { OperationsPage } from './pages/Operations';
import { PromotionPage } from './pages/Promotion';
import { Link, match, navigate, useLocation } from './router';
import { openStream, type SseEvent, type StreamState } from './sse';
import type { DashboardConfig, Me } from './types';

async function loadConfig(): Promise<DashboardConfig> {
  try {
    const res = await fetch('/dashboard-config.json', { cache: 'no-store' });
    if (res.ok) return (await res.json()) as DashboardConfig;
  } catch {
    // The defaults below.
  }
  return { temporalUi: 'http://127.0.0.1:8233', namespace: 'default' };
}

export function App() {
  const [token, setToken] = useState(auth.token());
  const [notice, setNotice] = useState('');
  const [me, setMe] = useState<Me | null>(null);
  const [config, setConfig] = useState<DashboardConfig | null>(null);
  const [bootError, setBootError] = useState<unknown>(null);

  useEffect(() => auth.onSignOut((reason) => {
    setNotice(reason);
    setToken(null);
    setMe(null);
  }), []);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    setBootError(null);
    Promise.all([request<Me>('GET', '/v1/me'), loadConfig()]).then(
      ([answer, cfg]) => {
        if (cancelled) return;
        setMe(answer.body ?? null);
        setConfig(cfg);
      },
      (error: unknown) => !cancelled && setBootError(error),
    );
    return () => {
      cancelled = true;
    };
  }, [token]);

  if (!token) {
    return <Login notice={notice} onToken={(t, who) => {
      auth.set(t);
      setNotice('');
      setMe(who);
      setToken(t);
    }} />;
  }
  if (bootError) {
    return (
      <div className="boot state error" role="alert">
        <strong>Could not reach the API.</strong> {describeError(bootError)}
        <div><button type="button" onClick={() => setToken(auth.token())}>Retry</button> <button type="button" className="link" onClick={() => auth.signOut('')}>Use another token</button></div>
      </div>
    );
  }
  if (!me || !config) return <div className="boot state loading"><span className="spinner" /> Signing in…</div>;
  return <Shell me={me} config={config} />;
}

function Shell({ me, config }: { me: Me; config: DashboardConfig }) {
  const [stream, setStream] = useState<StreamState>('connecting');
  const listeners = useRef(new Set<(e: SseEvent) => void>());
  useEffect(() => openStream('/v1/events', {
    onEvent: (e) => {
      for (const l of listeners.current) l(e);
    },
    onState: (s) => setStream(s),
  }), []);
  const subscribe = useCallback((l: (e: SseEvent) => void) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }, []);
  const session: Session = useMemo(() => ({ me, config, stream, subscribe }), [me, config, stream, subscribe]);
  const url = useLocation();
  const path = url.pathname;

  let page;
  let params: Record<string, string> | null;
  if (path === '/' || path === '/fleet') page = <FleetPage />;
  else if ((params = match('/environments/:name', path))) page = <EnvironmentPage key={params.name} name={params.name!} />;
  else if (path === '/operations') page = <OperationsPage />;
  else if ((params = match('/promotions/:id', path))) page = <PromotionPage key={params.id} id={params.id!} />;
  else page = <div className="state empty"><strong>No page at {path}.</strong><div className="hint"><Link to="/">Go to the fleet</Link></div></div>;

  const section = path.startsWith('/operations') || path.startsWith('/promotions') ? 'operations' : 'fleet';
  return (
    <SessionContext.Provider value={session}>
      <div className="app">
        <header className="topbar">
          <Link to="/" className="brand"><span className="logo" aria-hidden>▮▮▮</span> Flotilla</Link>
          <nav>
            <Link to="/" className={section === 'fleet' ? 'active' : ''}>Fleet</Link>
            <Link to="/operations" className={section === 'operations' ? 'active' : ''}>Operations</Link>
          </nav>
          <div className="spacer" />
          <span className={`live live-${stream}`} data-testid="live-state" title={stream === 'live' ? 'live updates from /v1/events' : 'no live stream: refreshing every 10 s'}>
            {stream === 'live' ? '● live' : stream === 'connecting' ? '○ connecting' : '○ polling'}
          </span>
          <span className="who" data-testid="who">{me.name} · <b>{me.role}</b>{me.tiers ? ` · ${me.tiers.join(', ')}` : ''}</span>
          <button type="button" className="link" onClick={() => {
            auth.signOut('');
            navigate('/');
          }}>Sign out</button>
        </header>
        <main>{page}</main>
      </div>
    </SessionContext.Provider>
  );
}
