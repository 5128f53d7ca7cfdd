// Small pieces every page uses: health colours, badges, ages, states of a page (loading,
// empty, error) that say what to do, and the link to an operation's workflow in the Temporal UI.
import { type ReactNode, useEffect, useState } from 'react';
import { describeError } from './api';
import { useSession } from './live';
import type { Health } from './types';

export function HealthPill({ health }: { health: Health }) {
  return <span className={`pill health-${health}`} data-health={health}>{health}</span>;
}

export function HealthDot({ health }: { health: Health }) {
  return <span className={`dot health-${health}`} title={health} />;
}

export function DriftBadge({ objects }: { objects?: number }) {
  return <span className="badge drift" data-testid="drift-badge" title="live objects differ from the last deploy">drift{objects ? ` · ${objects}` : ''}</span>;
}

/** A stopped environment: its workloads are scaled to zero until it is started. */
export function StoppedBadge() {
  return <span className="badge stopped" data-testid="stopped-badge" title="stopped: every workload scaled to zero until started">stopped</span>;
}

export function StaleBadge({ ageSeconds }: { ageSeconds?: number }) {
  return <span className="badge stale" data-testid="stale-badge" title="the state shown may be old: the cluster has not answered lately">stale{ageSeconds !== undefined ? ` ${duration(ageSeconds)}` : ''}</span>;
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60 >= 1 && seconds < 600 ? ` ${Math.round(seconds % 60)}s` : ''}`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`;
}

/** Re-renders every second: for ages that count up. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function Ago({ at }: { at?: string }) {
  const now = useNow();
  if (!at) return <span className="muted">—</span>;
  const s = Math.max(0, (now - Date.parse(at)) / 1000);
  return <time dateTime={at} title={new Date(at).toLocaleString()}>{duration(s)} ago</time>;
}

export function Took({ from, to }: { from?: string; to?: string }) {
  const now = useNow();
  if (!from) return <span className="muted">—</span>;
  const end = to ? Date.parse(to) : now;
  return <span title={to ? `${new Date(from).toLocaleTimeString()} → ${new Date(to).toLocaleTimeString()}` : `since ${new Date(from).toLocaleTimeString()}`}>{duration(Math.max(0, (end - Date.parse(from)) / 1000))}{to ? '' : '…'}</span>;
}

export function shortRev(rev?: string): string {
  if (!rev) return '—';
  return rev.replace(/^sha256:/, '').slice(0, 12);
}

export function Loading({ what }: { what: string }) {
  return <div className="state loading" role="status"><span className="spinner" /> Loading {what}…</div>;
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <strong>Could not load.</strong> {describeError(error)}
      {retry && <button type="button" className="link" onClick={retry}>Retry now</button>}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return <div className="state empty"><strong>{title}</strong>{children && <div className="hint">{children}</div>}</div>;
}

export function TemporalLink({ workflowId, label = 'Temporal' }: { workflowId: string; label?: string }) {
  const { config } = useSession();
  if (!config.temporalUi) return null;
  const href = `${config.temporalUi.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return <a className="temporal-link" href={href} target="_blank" rel="noreferrer" title="this operation's workflow in the Temporal UI" data-testid="temporal-link">{label} ↗</a>;
}

export function Section({ title, actions, children }: { title: ReactNode; actions?: ReactNode; children: ReactNode }) {
  return (
    <section className="panel">
      <header className="panel-head"><h2>{title}</h2>{actions && <div className="panel-actions">{actions}</div>}</header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

export function value(v: unknown): string {
  if (v === undefined) return '∅';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
