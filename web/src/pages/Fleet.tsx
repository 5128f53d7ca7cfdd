// The fleet grid: clusters (rows) × the tiers of their environments (columns); each
// environment a tile coloured by health with a drift badge and a stale marker. Live: a `fleet`
// or `drift` event refetches GET /v1/fleet (with If-None-Match); every 10 s a poll does too.
import { useMemo, useRef, useState } from 'react';
import { request } from '../api';
import { useLiveEvents, useLoad } from '../live';
import { Link, navigate, useLocation } from '../router';
import { type FleetCluster, type FleetEnvironment, type FleetView, HEALTHS, TIERS, type Tier } from '../types';
import { Ago, DriftBadge, Empty, ErrorBox, HealthDot, Loading, shortRev, StaleBadge, StoppedBadge, duration } from '../ui';

const FILTERS = ['tier', 'application', 'health', 'selector'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export function FleetPage() {
  const url = useLocation();
  const filters: Filters = Object.fromEntries(FILTERS.map((f) => [f, url.searchParams.get(f) ?? '']).filter(([, v]) => v));
  const query = new URLSearchParams(filters as Record<string, string>).toString();
  const etag = useRef<{ query: string; etag: string | null; view: FleetView } | null>(null);
  const fleet = useLoad<FleetView>(async (signal) => {
    const cached = etag.current?.query === query ? etag.current : null;
    const answer = await request<FleetView>('GET', `/v1/fleet${query ? `?${query}` : ''}`, { etag: cached?.etag, signal });
    if (answer.status === 304 && cached) return cached.view;
    etag.current = { query, etag: answer.etag, view: answer.body! };
    return answer.body!;
  }, [query], 10_000);
  useLiveEvents((e) => {
    if (e.event === 'fleet' || e.event === 'drift') fleet.reload();
  });
  // Every application seen, for the filter (kept across filtered answers).
  const appsSeen = useRef(new Set<string>());
  const seenApps = useMemo(() => {
    for (const c of fleet.data?.clusters ?? []) for (const e of c.environments) appsSeen.current.add(e.application);
    return [...appsSeen.current].sort();
  }, [fleet.data]);

  const setFilter = (name: keyof Filters, v: string) => {
    const next = new URLSearchParams(url.search);
    if (v) next.set(name, v);
    else next.delete(name);
    const qs = next.toString();
    navigate(`/${qs ? `?${qs}` : ''}`, true);
  };

  const view = fleet.data;
  const tiers = view ? TIERS.filter((t) => view.clusters.some((c) => c.environments.some((e) => e.tier === t))) : [];
  const filtered = Object.keys(filters).length > 0;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Fleet</h1>
        {view && <Summary view={view} />}
        <div className="spacer" />
        {fleet.at && <span className="muted small" title="when the grid was last read">updated <Ago at={new Date(fleet.at).toISOString()} /></span>}
      </div>
      <div className="filters" role="search">
        <label>Tier <select value={filters.tier ?? ''} onChange={(e) => setFilter('tier', e.target.value)} data-testid="filter-tier">
          <option value="">all</option>{TIERS.map((t) => <option key={t}>{t}</option>)}
        </select></label>
        <label>Application <select value={filters.application ?? ''} onChange={(e) => setFilter('application', e.target.value)} data-testid="filter-application">
          <option value="">all</option>{seenApps.map((a) => <option key={a}>{a}</option>)}
        </select></label>
        <label>Health <select value={filters.health ?? ''} onChange={(e) => setFilter('health', e.target.value)} data-testid="filter-health">
          <option value="">all</option>{[...HEALTHS, 'drifted', 'stale'].map((h) => <option key={h}>{h}</option>)}
        </select></label>
        <SelectorInput value={filters.selector ?? ''} onChange={(v) => setFilter('selector', v)} />
        {filtered && <button type="button" className="link" onClick={() => navigate('/', true)}>Clear filters</button>}
        <div className="spacer" />
        <Legend />
      </div>
      {fleet.error !== undefined && <ErrorBox error={fleet.error} retry={fleet.reload} />}
      {!view && fleet.loading && <Loading what="the fleet" />}
      {view && view.clusters.length === 0 && (filtered
        ? <Empty title="Nothing matches these filters.">Clear a filter, or check the label selector (<code>key=value,key2=value2</code>).</Empty>
        : <Empty title="No clusters yet.">Register one with <code>flotilla apply -f cluster.yaml</code> or <code>POST /v1/clusters</code>; the dev command registers its three local clusters.</Empty>)}
      {view && view.clusters.length > 0 && (
        <div className="grid-wrap">
          <table className="fleet-grid" data-testid="fleet-grid">
            <thead>
              <tr><th className="cluster-col">Cluster</th>{tiers.map((t) => <th key={t} className="tier-col">{t}</th>)}{tiers.length === 0 && <th>Environments</th>}</tr>
            </thead>
            <tbody>
              {view.clusters.map((c) => <ClusterRow key={c.name} cluster={c} tiers={tiers} />)}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function SelectorInput({ value, onChange }: { value: string; onChange(v: string): void }) {
  const [text, setText] = useState(value);
  const [bad, setBad] = useState(false);
  const apply = () => {
    const v = text.trim();
    const ok = v === '' || /^[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*(,[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*)*$/.test(v);
    setBad(!ok);
    if (ok) onChange(v);
  };
  return (
    <label>Labels <input value={text} placeholder="geo=eu,tier=prod" size={18} onChange={(e) => setText(e.target.value)} onBlur={apply}
      onKeyDown={(e) => e.key === 'Enter' && apply()} className={bad ? 'invalid' : ''} data-testid="filter-selector"
      title={bad ? 'key=value pairs separated by commas' : 'cluster label selector: key=value pairs, comma-separated'} /></label>
  );
}

function Summary({ view }: { view: FleetView }) {
  const s = view.summary;
  return (
    <div className="summary" data-testid="fleet-summary">
      <span><b>{s.clusters}</b> clusters{s.unreachable > 0 && <span className="bad"> ({s.unreachable} unreachable)</span>}</span>
      <span><b>{s.environments}</b> environments</span>
      <span className="ok"><b>{s.healthy}</b> healthy</span>
      <span className={s.drifted ? 'warn' : 'muted'}><b>{s.drifted}</b> drifted</span>
      <span className={s.stale ? 'warn' : 'muted'}><b>{s.stale}</b> stale</span>
    </div>
  );
}

function Legend() {
  return <div className="legend">{HEALTHS.map((h) => <span key={h}><HealthDot health={h} /> {h}</span>)}</div>;
}

function ClusterRow({ cluster: c, tiers }: { cluster: FleetCluster; tiers: Tier[] }) {
  const reach = c.reachability.state;
  return (
    <tr data-testid={`cluster-row-${c.name}`} data-reachability={reach}>
      <th className="cluster-cell" scope="row">
        <div className="cluster-name">
          <span className={`reach reach-${reach}`} title={`${reach}${c.reachability.message ? `: ${c.reachability.message}` : ''}`} data-testid="reachability" />
          {c.name}
          {c.stale && <StaleBadge ageSeconds={c.ageSeconds} />}
        </div>
        <div className="cluster-meta">
          <span>{c.provider}{c.region ? ` · ${c.region}` : ''}</span>
          <span className={`status status-${c.status}`}>{c.status}</span>
          {reach === 'unreachable' && c.reachability.since && <span className="bad">down <Ago at={c.reachability.since} /></span>}
        </div>
        <div className="labels">{Object.entries(c.labels).map(([k, v]) => <span key={k} className="label">{k}={v}</span>)}</div>
      </th>
      {tiers.map((t) => {
        const envs = c.environments.filter((e) => e.tier === t);
        return <td key={t} className="tiles">{envs.length === 0 ? <span className="none">·</span> : envs.map((e) => <EnvTile key={e.name} env={e} />)}</td>;
      })}
      {tiers.length === 0 && <td className="tiles"><span className="muted small">no environments</span></td>}
    </tr>
  );
}

function EnvTile({ env: e }: { env: FleetEnvironment }) {
  const ready = e.services.reduce((n, s) => n + s.readyReplicas, 0);
  const desired = e.services.reduce((n, s) => n + s.desiredReplicas, 0);
  const title = [
    `${e.name} (${e.application}, ${e.tier}) in namespace ${e.namespace}`,
    `health: ${e.health}`,
    e.drifted ? `drift: ${e.driftedObjects} object(s)` : 'no drift',
    e.stale ? `stale: last seen ${duration(e.ageSeconds ?? 0)} ago` : '',
    e.stoppedSince ? `stopped since ${e.stoppedSince}` : '',
    `revision ${shortRev(e.deployedRevision)}`,
  ].filter(Boolean).join('\n');
  return (
    <Link to={`/environments/${encodeURIComponent(e.name)}`} className={`tile health-${e.health}${e.drifted ? ' drifted' : ''}${e.stale ? ' is-stale' : ''}`}
      data-testid={`env-cell-${e.name}`} data-health={e.health} data-drifted={String(e.drifted)} data-stale={String(e.stale)} data-stopped={String(!!e.stoppedSince)} title={title}>
      <div className="tile-top">
        <span className="tile-name">{e.name}</span>
        {e.drifted && <DriftBadge objects={e.driftedObjects} />}
        {e.stale && <StaleBadge ageSeconds={e.ageSeconds} />}
        {e.stoppedSince && <StoppedBadge />}
      </div>
      <div className="tile-meta">
        <span>{e.application}</span>
        <span className="mono">{shortRev(e.deployedRevision).slice(0, 7)}</span>
        <span>{desired > 0 || e.services.length > 0 ? `${ready}/${desired} ready` : 'no services'}</span>
        <span className="tile-health">{e.health}</span>
      </div>
    </Link>
  );
}
