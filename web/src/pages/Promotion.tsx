// A promotion: stages × targets with phases and timings (GET /v1/promotions/{id}, the
// workflow's query), refreshed every 2 s while it runs. Approve and Reject show only to a
// caller whose token may approve (promotion.approve) on the waiting stage's tiers; under four
// eyes the requester sees why the button is not theirs.
import { useState } from 'react';
import { describeError, get, post } from '../api';
import { may, useLiveEvents, useLoad, useSession } from '../live';
import { Link } from '../router';
import type { Promotion, PromotionStage } from '../types';
import { Ago, Empty, ErrorBox, Loading, Section, StateBadge, TemporalLink, Took, shortRev } from '../ui';

const FINAL = new Set(['completed', 'completed-with-failures', 'rolled-back', 'cancelled', 'rejected', 'failed']);

export function PromotionPage({ id }: { id: string }) {
  const [final, setFinal] = useState(false);
  const promo = useLoad((signal) => get<Promotion>(`/v1/promotions/${encodeURIComponent(id)}`, signal), [id], final ? 30_000 : 2_000);
  const p = promo.data;
  if (p && FINAL.has(p.phase) !== final) setFinal(FINAL.has(p.phase));
  useLiveEvents((e) => {
    if (e.event === 'operation' && (JSON.parse(e.data) as { id?: string }).id === id) promo.reload();
  });
  if (!p) {
    return <div className="page">{promo.error !== undefined ? <ErrorBox error={promo.error} retry={promo.reload} /> : <Loading what={`promotion ${id}`} />}</div>;
  }
  const awaiting = p.stages.find((s) => s.phase === 'awaiting-approval');
  return (
    <div className="page">
      <div className="crumbs"><Link to="/operations">Operations</Link> / <Link to="/operations?kind=promotion">promotions</Link> / <b className="mono">{id}</b></div>
      <div className="page-head">
        <h1 className="mono">{id}</h1>
        <span className={`badge state-${p.phase}`} data-testid="promotion-phase">{p.phase}</span>
        {p.paused && <span className="badge state-paused">paused</span>}
        <div className="spacer" />
        <TemporalLink workflowId={id} label="Open in Temporal" />
      </div>
      {promo.error !== undefined && <ErrorBox error={promo.error} retry={promo.reload} />}
      <dl className="facts">
        <div><dt>Source</dt><dd><Link to={`/environments/${encodeURIComponent(p.source)}`}>{p.source}</Link></dd></div>
        <div><dt>Revision</dt><dd className="mono">{shortRev(p.revision)}</dd></div>
        <div><dt>Requested by</dt><dd data-testid="requested-by">{p.requestedBy}</dd></div>
        <div><dt>On failure</dt><dd>{p.failurePolicy}</dd></div>
        <div><dt>Started</dt><dd><Ago at={p.startedAt} /></dd></div>
        <div><dt>Took</dt><dd><Took from={p.startedAt} to={p.finishedAt} /></dd></div>
        {p.outcome && <div><dt>Outcome</dt><dd><StateBadge state={p.outcome} /></dd></div>}
        {p.workflowStatus && <div><dt>Workflow</dt><dd>{p.workflowStatus}</dd></div>}
      </dl>
      {p.message && <div className="state info">{p.message}</div>}
      {awaiting && <Approval promotion={p} stage={awaiting} onDone={promo.reload} />}
      <Section title="Stages">
        {p.stages.length === 0 ? <Empty title="No stages." /> : <Stages stages={p.stages} />}
      </Section>
    </div>
  );
}

function Stages({ stages }: { stages: PromotionStage[] }) {
  return (
    <div className="stages" data-testid="stages">
      {stages.map((s, i) => (
        <div key={s.name} className={`stage stage-${s.phase}`} data-testid={`stage-${s.name}`} data-phase={s.phase}>
          <div className="stage-head">
            <span className="stage-index">{i + 1}</span>
            <b>{s.name}</b>
            <span className={`badge state-${s.phase}`}>{s.phase}</span>
            <div className="spacer" />
            <span className="muted small"><Took from={s.startedAt} to={s.finishedAt} /></span>
          </div>
          {s.approval?.required && (
            <div className="approval-line small">
              approval{s.approval.fourEyes ? ' (four eyes)' : ''}:{' '}
              {s.approval.approvedBy ? <span className="ok">approved by <b data-testid="approved-by">{s.approval.approvedBy}</b>{s.approval.at && <> · <Ago at={s.approval.at} /></>}</span>
                : s.approval.rejectedBy ? <span className="bad">rejected by <b>{s.approval.rejectedBy}</b></span>
                  : s.phase === 'awaiting-approval' ? <span className="warn">waiting</span> : <span className="muted">before this stage</span>}
              {s.approval.comment && <span className="muted"> “{s.approval.comment}”</span>}
            </div>
          )}
          <table className="table compact">
            <thead><tr><th>Target</th><th>Cluster</th><th>Tier</th><th>Phase</th><th>From</th><th>Took</th><th>Detail</th></tr></thead>
            <tbody>{s.targets.map((t) => (
              <tr key={t.environment} data-testid={`target-${t.environment}`} data-phase={t.phase}>
                <td><Link to={`/environments/${encodeURIComponent(t.environment)}`}>{t.environment}</Link></td>
                <td>{t.cluster}</td><td>{t.tier}</td>
                <td><span className={`badge state-${t.phase}`}>{t.phase}</span></td>
                <td className="mono">{shortRev(t.previousRevision).slice(0, 7)}</td>
                <td><Took from={t.startedAt} to={t.finishedAt} /></td>
                <td className="problems">{t.error ?? t.waitingOn?.join('; ') ?? ''}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

function Approval({ promotion: p, stage, onDone }: { promotion: Promotion; stage: PromotionStage; onDone(): void }) {
  const { me } = useSession();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'' | 'approve' | 'reject'>('');
  const [error, setError] = useState('');
  const tiers = [...new Set(stage.targets.map((t) => t.tier))];
  const allowed = may(me, 'promotion.approve', tiers);
  const ownRequest = !!stage.approval?.fourEyes && p.requestedBy === me.name;
  const decide = async (what: 'approve' | 'reject') => {
    setBusy(what);
    setError('');
    try {
      await post(`/v1/promotions/${encodeURIComponent(p.id)}/${what}`, comment ? { comment } : {});
      onDone();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy('');
    }
  };
  return (
    <div className="approval-box" data-testid="approval">
      <div>
        <b>Stage “{stage.name}” waits for approval</b> before it changes {stage.targets.map((t) => t.environment).join(', ')} ({tiers.join(', ')}).
        {stage.approval?.fourEyes && <span className="muted"> Four eyes: someone other than {p.requestedBy} must approve.</span>}
      </div>
      {!allowed && <div className="muted small" data-testid="approval-not-allowed">Your token ({me.role}) may not approve {tiers.join(', ')} promotions; a release-manager can.</div>}
      {allowed && ownRequest && <div className="muted small" data-testid="approval-own">You requested this promotion, so another release-manager must approve it.</div>}
      {allowed && !ownRequest && (
        <div className="approval-actions">
          <input placeholder="comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} maxLength={1000} />
          <button type="button" className="primary" disabled={!!busy} onClick={() => decide('approve')} data-testid="approve">{busy === 'approve' ? 'Approving…' : 'Approve'}</button>
          <button type="button" className="danger" disabled={!!busy} onClick={() => decide('reject')} data-testid="reject">{busy === 'reject' ? 'Rejecting…' : 'Reject'}</button>
        </div>
      )}
      {error && <div className="form-error" role="alert">{error}</div>}
    </div>
  );
}
