// One environment: its services (replicas, health, revision) and drift (field by field, who
// made it) from GET /v1/environments/{name}/status; spec summary and overrides from GET
// /v1/environments/{name}; a diff to another environment; revision history; logs, live.
import { useEffect, useRef, useState } from 'react';
import { ApiError, describeError, get, post } from '../api';
import { may, useLiveEvents, useLoad, useSession } from '../live';
import { Link, navigate, useLocation } from '../router';
import { openStream } from '../sse';
import type { DiffView, EnvironmentDetail, EnvironmentStatus, HistoryEntry, LogEvent, ObjectDrift } from '../types';
import { Ago, DriftBadge, Empty, ErrorBox, HealthPill, Loading, Section, StaleBadge, StoppedBadge, TemporalLink, shortRev, value } from '../ui';

const TABS = ['overview', 'diff', 'history', 'logs'] as const;
type Tab = (typeof TABS)[number];

export function EnvironmentPage({ name }: { name: string }) {
  const url = useLocation();
  const tab = (TABS as readonly string[]).includes(url.searchParams.get('tab') ?? '') ? (url.searchParams.get('tab') as Tab) : 'overview';
  const enc = encodeURIComponent(name);
  const status = useLoad((signal) => get<EnvironmentStatus>(`/v1/environments/${enc}/status`, signal), [name], 10_000);
  const detail = useLoad((signal) => get<EnvironmentDetail>(`/v1/environments/${enc}`, signal), [name], 30_000);
  useLiveEvents((e) => {
    if (e.event === 'fleet') status.reload();
    if (e.event === 'drift' && (JSON.parse(e.data) as { environment?: string }).environment === name) status.reload();
    if (e.event === 'operation' && (JSON.parse(e.data) as { state?: string }).state !== 'running') detail.reload();
  });

  const notFound = [status.error, detail.error].some((e) => e instanceof ApiError && e.status === 404);
  if (notFound) return <div className="page"><Empty title={`No environment named "${name}".`}>It may have been torn down. <Link to="/">Back to the fleet</Link></Empty></div>;
  const s = status.data;
  const d = detail.data;
  return (
    <div className="page">
      <div className="crumbs"><Link to="/">Fleet</Link> / {d?.application ?? s?.application ?? '…'} / <b>{name}</b></div>
      <div className="page-head">
        <h1 data-testid="env-title">{name}</h1>
        {s && <HealthPill health={s.health} />}
        {s?.drifted && <DriftBadge objects={s.driftedObjects} />}
        {s?.stale && <StaleBadge ageSeconds={s.ageSeconds} />}
        {d?.stopped && <StoppedBadge />}
        <div className="spacer" />
        {d?.deployed && <StopStart environment={name} tier={d.tier} stopped={!!d.stopped} onDone={() => detail.reload()} />}
        {s && <span className="muted small">observed <Ago at={s.observedAt} /></span>}
      </div>
      {(status.error !== undefined || detail.error !== undefined) && <ErrorBox error={status.error ?? detail.error} retry={() => { status.reload(); detail.reload(); }} />}
      {!s && !d && status.loading && <Loading what={`environment ${name}`} />}
      {(s || d) && (
        <dl className="facts">
          <div><dt>Application</dt><dd>{d?.application ?? s?.application}</dd></div>
          <div><dt>Tier</dt><dd>{d?.tier ?? s?.tier}</dd></div>
          <div><dt>Cluster</dt><dd>{s && <span className={`reach reach-${s.reachability.state}`} title={s.reachability.state} />}{d?.cluster ?? s?.cluster}{s?.reachability.state === 'unreachable' && <span className="bad"> unreachable</span>}</dd></div>
          <div><dt>Namespace</dt><dd className="mono">{d?.namespace ?? s?.namespace}</dd></div>
          <div><dt>Deployed</dt><dd className="mono" data-testid="deployed-revision">{shortRev(d?.deployed?.revision ?? s?.deployedRevision)}</dd></div>
          <div><dt>Desired</dt><dd className="mono">{shortRev(d?.currentRevision)}{d?.currentRevision && d.deployed && d.currentRevision !== d.deployed.revision && <span className="warn"> (not deployed yet)</span>}</dd></div>
          <div><dt>Live</dt><dd className="mono">{s?.liveRevision ?? '—'}</dd></div>
          {d?.deployed && <div><dt>Last deploy</dt><dd>{d.deployed.by} · <Ago at={d.deployed.at} /></dd></div>}
          {d && <div><dt>Drift policy</dt><dd>{d.driftPolicy}</dd></div>}
          {d?.updates && <div><dt>Updates</dt><dd title="track: takes its application's changes on apply; promotion: changes only by promotion">{d.updates}</dd></div>}
          {d?.stopped && <div><dt>Stopped</dt><dd data-testid="stopped-since">by {d.stopped.by} · <Ago at={d.stopped.at} /></dd></div>}
          {d?.residency && <div><dt>Residency</dt><dd>{d.residency}</dd></div>}
        </dl>
      )}
      <nav className="tabs">
        {TABS.map((t) => <button key={t} type="button" className={t === tab ? 'active' : ''} onClick={() => navigate(`/environments/${enc}${t === 'overview' ? '' : `?tab=${t}`}`, true)}>{t}</button>)}
      </nav>
      {tab === 'overview' && <Overview status={s} detail={d} />}
      {tab === 'diff' && d && <Diff env={d} />}
      {tab === 'history' && <History name={name} />}
      {tab === 'logs' && <Logs name={name} services={s?.services.map((x) => x.service) ?? []} tier={d?.tier ?? s?.tier} />}
    </div>
  );
}

function Overview({ status: s, detail: d }: { status?: EnvironmentStatus; detail?: EnvironmentDetail }) {
  return (
    <>
      <Section title="Services">
        {!s ? <Loading what="live status" /> : s.services.length === 0 ? <Empty title="No services observed yet.">The observer reports them once the environment is deployed and its cluster answers.</Empty> : (
          <table className="table" data-testid="services">
            <thead><tr><th>Service</th><th>Kind</th><th>Health</th><th className="num">Ready</th><th className="num">Updated</th><th className="num">Restarts</th><th>Revision</th><th>Drift</th><th>Problems</th></tr></thead>
            <tbody>
              {s.services.map((x) => (
                <tr key={x.service}>
                  <td><b>{x.service}</b></td>
                  <td className="muted">{x.kind ?? 'Deployment'}</td>
                  <td><HealthPill health={x.health} /></td>
                  <td className="num">{x.readyReplicas}/{x.desiredReplicas}</td>
                  <td className="num">{x.updatedReplicas}</td>
                  <td className="num">{x.restarts}</td>
                  <td className="mono">{x.revision ?? '—'}</td>
                  <td>{x.drift ? <DriftBadge /> : <span className="muted">—</span>}</td>
                  <td className="problems">{x.problems?.join('; ') ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title={<>Drift {s?.drifted ? <span className="warn">· {s.driftedObjects} object(s) differ from the last deploy{s.driftSince ? <> since <Ago at={s.driftSince} /></> : null}</span> : null}</>}>
        {!s ? <Loading what="drift" /> : s.drift.length === 0 ? <div className="ok-line" data-testid="no-drift">✓ The live objects match the last deploy.</div> : <DriftTable objects={s.drift} since={s.driftSince} />}
      </Section>
      <div className="two-col">
        <Section title="Spec">{!d ? <Loading what="spec" /> : <SpecSummary env={d} />}</Section>
        <Section title={<>Overrides <span className="muted small">v{d?.overridesVersion ?? '…'}: what promotion does not carry</span></>}>{!d ? <Loading what="overrides" /> : <Overrides env={d} />}</Section>
      </div>
    </>
  );
}

function DriftTable({ objects, since }: { objects: ObjectDrift[]; since?: string }) {
  return (
    <table className="table drift-table" data-testid="drift">
      <thead><tr><th>Object</th><th>Field</th><th>Expected</th><th>Actual</th><th>Changed by</th><th>When</th></tr></thead>
      <tbody>
        {objects.flatMap((o) => {
          const obj = `${o.kind}/${o.name}`;
          if (o.fields.length === 0) {
            return [<tr key={obj}><td className="mono">{obj}</td><td colSpan={3}><span className={`badge reason-${o.reason}`}>{o.reason}</span></td><td>{o.changedBy ?? '—'}</td><td><Ago at={o.changedAt ?? since} /></td></tr>];
          }
          return o.fields.map((f, i) => (
            <tr key={`${obj}/${f.path}`}>
              <td className="mono">{i === 0 ? <>{obj} <span className={`badge reason-${o.reason}`}>{o.reason}</span></> : ''}</td>
              <td className="mono">{f.path}</td>
              <td className="mono expected">{value(f.expected)}</td>
              <td className="mono actual">{value(f.actual)}</td>
              <td data-testid="changed-by">{f.changedBy ?? o.changedBy ?? '—'}</td>
              <td><Ago at={f.changedAt ?? o.changedAt ?? since} /></td>
            </tr>
          ));
        })}
      </tbody>
    </table>
  );
}

function SpecSummary({ env }: { env: EnvironmentDetail }) {
  const spec = env.spec;
  if (!spec) return <Empty title="No spec yet." />;
  return (
    <>
      <table className="table compact">
        <thead><tr><th>Service</th><th>Image</th><th className="num">Replicas</th><th>Ports</th></tr></thead>
        <tbody>{spec.services.map((x) => <tr key={x.name}><td><b>{x.name}</b></td><td className="mono">{x.image}</td><td className="num">{x.replicas ?? 1}</td><td className="mono">{x.ports?.map((p) => p.port).join(', ')}</td></tr>)}</tbody>
      </table>
      <div className="kv">
        <span className="muted">config</span> {Object.keys(spec.config ?? {}).length === 0 ? <span className="muted">none</span> : Object.entries(spec.config ?? {}).map(([k, v]) => <span key={k} className="label mono">{k}={v}</span>)}
      </div>
      <div className="kv"><span className="muted">secrets</span> {(spec.secrets ?? []).length === 0 ? <span className="muted">none</span> : (spec.secrets ?? []).map((k) => <span key={String(k)} className="label mono">{typeof k === 'string' ? k : JSON.stringify(k)}</span>)}</div>
      <div className="kv"><span className="muted">databases</span> {(spec.databases ?? []).length}</div>
    </>
  );
}

function Overrides({ env }: { env: EnvironmentDetail }) {
  const rows = Object.entries(env.overrides).flatMap(([kind, entries]) =>
    Object.entries((entries ?? {}) as Record<string, unknown>).map(([key, v]) => ({ kind, key, v })));
  if (rows.length === 0) return <div className="muted">No overrides: this environment runs its revision as written.</div>;
  return (
    <table className="table compact" data-testid="overrides">
      <thead><tr><th>Kind</th><th>Key</th><th>Value</th></tr></thead>
      <tbody>{rows.map((r) => <tr key={`${r.kind}/${r.key}`}><td>{r.kind}</td><td className="mono">{r.key}</td><td className="mono">{value(r.v)}</td></tr>)}</tbody>
    </table>
  );
}

function Diff({ env }: { env: EnvironmentDetail }) {
  const others = useLoad((signal) => get<{ items: { name: string; tier: string; cluster: string }[] }>(`/v1/environments?application=${encodeURIComponent(env.application)}`, signal), [env.application]);
  const candidates = (others.data?.items ?? []).filter((e) => e.name !== env.name);
  const [other, setOther] = useState('');
  const target = other || candidates[0]?.name || '';
  const diff = useLoad((signal) => (target ? get<DiffView>(`/v1/environments/${encodeURIComponent(env.name)}/diff/${encodeURIComponent(target)}`, signal) : Promise.resolve(undefined)), [env.name, target]);
  return (
    <Section title={<>Diff to <select value={target} onChange={(e) => setOther(e.target.value)} data-testid="diff-target">{candidates.map((c) => <option key={c.name} value={c.name}>{c.name} ({c.tier}, {c.cluster})</option>)}</select></>}>
      {others.error !== undefined && <ErrorBox error={others.error} retry={others.reload} />}
      {others.data && candidates.length === 0 && <Empty title={`No other environment of ${env.application} to compare with.`} />}
      {diff.error !== undefined && <ErrorBox error={diff.error} retry={diff.reload} />}
      {target && !diff.data && diff.loading && <Loading what="the diff" />}
      {diff.data && (
        <>
          <p className={diff.data.zeroDrift ? 'ok-line' : 'warn'} data-testid="zero-drift">
            {diff.data.zeroDrift ? '✓ Zero drift: they differ in declared overrides only.' : `✗ They differ beyond overrides: ${diff.data.other.length} difference(s).`}
            {' '}<span className="muted mono">{shortRev(diff.data.a.revision)} ↔ {shortRev(diff.data.b.revision)}</span>
          </p>
          <table className="table">
            <thead><tr><th>Kind</th><th>Path</th><th>{diff.data.a.name}</th><th>{diff.data.b.name}</th></tr></thead>
            <tbody>
              {[...diff.data.other.map((x) => ({ ...x, k: 'spec' })), ...diff.data.overrides.map((x) => ({ ...x, k: 'override' }))].map((x) => (
                <tr key={`${x.k}/${x.path}`}><td><span className={`badge ${x.k === 'spec' ? 'drift' : ''}`}>{x.k}</span></td><td className="mono">{x.path}</td><td className="mono">{value(x.a)}</td><td className="mono">{value(x.b)}</td></tr>
              ))}
              {diff.data.other.length + diff.data.overrides.length === 0 && <tr><td colSpan={4} className="muted">Identical.</td></tr>}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}

function History({ name }: { name: string }) {
  const history = useLoad((signal) => get<{ items: HistoryEntry[] }>(`/v1/environments/${encodeURIComponent(name)}/revisions?limit=100`, signal), [name], 15_000);
  return (
    <Section title="Revision history">
      {history.error !== undefined && <ErrorBox error={history.error} retry={history.reload} />}
      {!history.data && history.loading && <Loading what="history" />}
      {history.data && history.data.items.length === 0 && <Empty title="No history yet." />}
      {history.data && history.data.items.length > 0 && (
        <table className="table" data-testid="history">
          <thead><tr><th>When</th><th>What</th><th>Revision</th><th>By</th><th>Overrides</th><th>Operation</th></tr></thead>
          <tbody>{history.data.items.map((h) => (
            <tr key={h.id}>
              <td><Ago at={h.at} /></td><td>{h.kind}</td><td className="mono">{shortRev(h.revision)}</td><td>{h.author}</td>
              <td className="num">{h.overridesVersion ?? ''}</td>
              <td>{h.operationId && <><OperationLink id={h.operationId} /> <TemporalLink workflowId={h.operationId} /></>}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </Section>
  );
}

export function OperationLink({ id }: { id: string }) {
  if (id.startsWith('promote-')) return <Link to={`/promotions/${encodeURIComponent(id)}`} className="mono">{id}</Link>;
  return <span className="mono">{id}</span>;
}

const MAX_LINES = 2000;

function Logs({ name, services, tier }: { name: string; services: string[]; tier?: EnvironmentDetail['tier'] }) {
  const { me } = useSession();
  const [service, setService] = useState('');
  const [following, setFollowing] = useState(true);
  const [lines, setLines] = useState<LogEvent[]>([]);
  const [state, setState] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const allowed = !tier || may(me, 'logs.read', [tier]);
  useEffect(() => {
    if (!following || !allowed) return;
    setLines([]);
    const qs = new URLSearchParams({ follow: 'true', tail: '200', timeout: '30m', ...(service ? { service } : {}) });
    return openStream(`/v1/environments/${encodeURIComponent(name)}/logs?${qs}`, {
      reconnect: false,
      onEvent: (e) => {
        try {
          const event = JSON.parse(e.data) as LogEvent;
          setLines((ls) => (ls.length >= MAX_LINES ? [...ls.slice(ls.length - MAX_LINES + 1), event] : [...ls, event]));
        } catch {
          // Not an event of ours.
        }
      },
      onState: (s, detail) => setState(s === 'down' ? `stream ended${detail ? ` (${detail})` : ''}` : s),
    });
  }, [name, service, following, allowed]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines]);
  if (!allowed) return <Section title="Logs"><Empty title="Your token may not read this environment's logs.">Reading logs is bound by a token's tiers (logs.read); ask an admin for a token scoped to {tier}.</Empty></Section>;
  return (
    <Section title="Logs" actions={<>
      <label>Service <select value={service} onChange={(e) => setService(e.target.value)}><option value="">all</option>{services.map((s) => <option key={s}>{s}</option>)}</select></label>
      <button type="button" onClick={() => setFollowing((f) => !f)} data-testid="logs-follow">{following ? 'Stop tail' : 'Follow'}</button>
      <span className="muted small" data-testid="logs-state">{following ? state : 'paused'}</span>
    </>}>
      <div className="logs" ref={box} data-testid="logs">
        {lines.length === 0 && <div className="muted">{following ? 'Waiting for lines… (KWOK pods print nothing by themselves: see local/pod-log.ts)' : 'Press Follow to tail the logs.'}</div>}
        {lines.map((l, i) => l.type === 'line'
          ? <div key={i} className="log-line"><span className="log-src">[{l.cluster}/{l.pod}]</span> {l.time && <span className="log-time">{l.time.slice(11, 23)}</span>} {l.line}</div>
          : l.type === 'error'
            ? <div key={i} className="log-line log-error">! [{l.cluster}{l.pod ? `/${l.pod}` : ''}] {l.reason}: {l.message}</div>
            : <div key={i} className="log-line log-end">— end: {l.reason} ({l.lines} lines) {l.message}</div>)}
      </div>
    </Section>
  );
}

/** Stop or start the environment, for a token that may (environment.deploy on its tier). */
function StopStart({ environment, tier, stopped, onDone }: { environment: string; tier: EnvironmentDetail['tier']; stopped: boolean; onDone(): void }) {
  const { me } = useSession();
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState('');
  if (!may(me, 'environment.deploy', [tier])) return null;
  const action = stopped ? 'start' : 'stop';
  const act = async () => {
    setBusy(true);
    setSaid('');
    try {
      const { operationId } = await post<{ operationId: string }>(`/v1/environments/${encodeURIComponent(environment)}/${action}`, {});
      setSaid(`${action} started: ${operationId}`);
      onDone();
    } catch (error) {
      setSaid(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="stop-start">
      <button type="button" data-testid={`${action}-button`} disabled={busy} onClick={() => void act()}>{stopped ? 'Start' : 'Stop'}</button>
      {said && <span className="muted small" data-testid="stop-start-said"> {said}</span>}
    </span>
  );
}
