// Operations: every run of a workflow (GET /v1/operations), live (an `operation` event
// refetches), by kind; clones (GET /v1/clones) and drills (GET /v1/drills) with their own
// columns. Every operation links to its workflow in the Temporal UI.
import { get } from '../api';
import { useLiveEvents, useLoad } from '../live';
import { Link, navigate, useLocation } from '../router';
import type { Clone, DrillSummary, Operation } from '../types';
import { Ago, Empty, ErrorBox, Loading, StateBadge, TemporalLink, Took, duration } from '../ui';

const TABS = [
  { id: 'all', label: 'All' },
  { id: 'deploy', label: 'Deploys' },
  { id: 'promotion', label: 'Promotions' },
  { id: 'onboarding', label: 'Onboardings' },
  { id: 'clones', label: 'Clones' },
  { id: 'drills', label: 'Drills' },
] as const;

export function OperationsPage() {
  const url = useLocation();
  const tab = TABS.find((t) => t.id === url.searchParams.get('kind'))?.id ?? 'all';
  return (
    <div className="page">
      <div className="page-head"><h1>Operations</h1></div>
      <nav className="tabs">
        {TABS.map((t) => <button key={t.id} type="button" className={t.id === tab ? 'active' : ''} onClick={() => navigate(t.id === 'all' ? '/operations' : `/operations?kind=${t.id}`, true)}>{t.label}</button>)}
      </nav>
      {tab === 'clones' ? <Clones /> : tab === 'drills' ? <Drills /> : <OperationList kind={tab === 'all' ? undefined : tab} />}
    </div>
  );
}

function OperationList({ kind }: { kind?: string }) {
  const ops = useLoad((signal) => get<{ items: Operation[] }>(`/v1/operations?limit=100${kind ? `&kind=${kind}` : ''}`, signal), [kind], 5_000);
  useLiveEvents((e) => {
    if (e.event === 'operation') ops.reload();
  });
  if (ops.error !== undefined && !ops.data) return <ErrorBox error={ops.error} retry={ops.reload} />;
  if (!ops.data) return <Loading what="operations" />;
  if (ops.data.items.length === 0) {
    return <Empty title={kind ? `No ${kind} operations yet.` : 'No operations yet.'}>Deploys, promotions, clones, drills and onboardings appear here as they start: <code>flotilla deploy ENV</code>, <code>flotilla promote SOURCE --to TARGET</code>.</Empty>;
  }
  return (
    <>
      {ops.error !== undefined && <ErrorBox error={ops.error} retry={ops.reload} />}
      <table className="table" data-testid="operations">
        <thead><tr><th>Operation</th><th>Kind</th><th>State</th><th>Outcome</th><th>Environments</th><th>Clusters</th><th>By</th><th>Started</th><th>Took</th><th /></tr></thead>
        <tbody>{ops.data.items.map((o) => (
          <tr key={o.id} data-testid={`operation-${o.id}`}>
            <td className="mono">{o.kind === 'promotion' ? <Link to={`/promotions/${encodeURIComponent(o.id)}`}>{o.id}</Link> : o.id}{o.message && <div className="muted small op-message" title={o.message}>{o.message}</div>}</td>
            <td>{o.kind}</td>
            <td><StateBadge state={o.state} /></td>
            <td>{o.outcome ? <StateBadge state={o.outcome} /> : <span className="muted">—</span>}</td>
            <td>{o.environments.map((e) => <div key={e}><Link to={`/environments/${encodeURIComponent(e)}`} className="nowrap">{e}</Link></div>)}</td>
            <td className="muted">{o.clusters.map((c) => <div key={c} className="nowrap">{c}</div>)}</td>
            <td>{o.requestedBy ?? '—'}</td>
            <td><Ago at={o.startedAt} /></td>
            <td><Took from={o.startedAt} to={o.finishedAt ?? (o.state === 'running' || o.state === 'waiting' || o.state === 'paused' ? undefined : o.updatedAt)} /></td>
            <td><TemporalLink workflowId={o.id} /></td>
          </tr>
        ))}</tbody>
      </table>
    </>
  );
}

function Clones() {
  const clones = useLoad((signal) => get<{ items: Clone[] }>('/v1/clones?active=false', signal), [], 10_000);
  useLiveEvents((e) => e.event === 'operation' && clones.reload());
  if (clones.error !== undefined && !clones.data) return <ErrorBox error={clones.error} retry={clones.reload} />;
  if (!clones.data) return <Loading what="clones" />;
  if (clones.data.items.length === 0) return <Empty title="No clones yet.">Clone an environment to another cluster with <code>flotilla clone SOURCE --to CLUSTER</code> (or <code>POST /v1/clones</code>).</Empty>;
  return (
    <table className="table" data-testid="clones">
      <thead><tr><th>Clone</th><th>Source</th><th>Cluster</th><th>Purpose</th><th>State</th><th>Phase</th><th>Expires</th><th>By</th><th>Created</th><th /></tr></thead>
      <tbody>{clones.data.items.map((c) => (
        <tr key={c.id}>
          <td><Link to={`/environments/${encodeURIComponent(c.name)}`}>{c.name}</Link><div className="muted small mono">{c.id}</div></td>
          <td>{c.source}</td><td>{c.cluster}</td><td>{c.purpose}</td><td><StateBadge state={c.state} /></td><td>{c.phase ?? '—'}</td>
          <td>{c.remainingSeconds !== undefined ? `in ${duration(c.remainingSeconds)}` : c.expiresAt ? <Ago at={c.expiresAt} /> : '—'}</td>
          <td>{c.createdBy}</td><td><Ago at={c.createdAt} /></td><td><TemporalLink workflowId={c.id} /></td>
        </tr>
      ))}</tbody>
    </table>
  );
}

function Drills() {
  const drills = useLoad((signal) => get<{ items: DrillSummary[] }>('/v1/drills', signal), [], 10_000);
  useLiveEvents((e) => e.event === 'operation' && drills.reload());
  if (drills.error !== undefined && !drills.data) return <ErrorBox error={drills.error} retry={drills.reload} />;
  if (!drills.data) return <Loading what="drills" />;
  if (drills.data.items.length === 0) return <Empty title="No DR drills yet.">Rehearse disaster recovery with <code>flotilla drill SOURCE --to DR_CLUSTER</code> (or <code>POST /v1/drills</code>).</Empty>;
  return (
    <table className="table" data-testid="drills">
      <thead><tr><th>Drill</th><th>Source</th><th>DR cluster</th><th>Outcome</th><th className="num">RTO</th><th className="num">RPO</th><th>Started</th><th>Took</th><th /></tr></thead>
      <tbody>{drills.data.items.map((d) => (
        <tr key={d.id}>
          <td className="mono">{d.id}</td><td>{d.source}</td><td>{d.cluster}</td><td><StateBadge state={d.outcome} /></td>
          <td className="num">{d.rtoSeconds !== undefined ? duration(d.rtoSeconds) : '—'}</td><td className="num">{d.rpoSeconds !== undefined ? duration(d.rpoSeconds) : '—'}</td>
          <td><Ago at={d.startedAt} /></td><td><Took from={d.startedAt} to={d.finishedAt} /></td><td><TemporalLink workflowId={d.id} /></td>
        </tr>
      ))}</tbody>
    </table>
  );
}
