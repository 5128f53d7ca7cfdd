// /v1/promotions: start a multi-stage promotion (the promote workflow), show its state (the
// workflow's query), approve or reject the stage awaiting approval (an Update, four eyes),
// pause, resume and cancel (signals).
import { defineRoute } from '../route.js';
import { ApprovalBody, CancelBody, ControlBody, IdParam, OperationAccepted, PromoteBody, PromotionView } from '../schemas.js';
import {
  checkTargets, control, type Control, decide, decisionTiers, planPromotion, promotionView, requirePromotion, startPromotion,
} from '../services/promotions.js';
import { rawName } from './common.js';

const target = ({ params }: { params: Record<string, string> }) => `promotion/${params.id ?? '?'}`;
const location = (id: string) => `/v1/promotions/${encodeURIComponent(id)}`;

function controlRoute(what: Control, summary: string) {
  return defineRoute({
    method: 'post', path: `/promotions/{id}/${what}`, operationId: `${what}Promotion`, tag: 'promotions', summary,
    action: 'promotion.control', params: IdParam, body: what === 'cancel' ? CancelBody : ControlBody, bodyOptional: true,
    audit: { action: `promotion.${what}`, target },
    responses: { 202: { description: 'signalled', schema: OperationAccepted, headers: { Location: 'the promotion' } } },
    async handler({ params, body }, ctx) {
      const record = await requirePromotion(ctx.deps, params.id);
      ctx.audit({ operationId: record.id });
      ctx.authorize('promotion.control', await decisionTiers(ctx.deps, record, 'all'));
      const reason = (body as { reason?: string }).reason;
      await control(ctx.deps, record, what, ctx.principal.name, reason);
      if (reason !== undefined) ctx.audit({ details: { reason } });
      return { status: 202, body: { operationId: record.id }, headers: { Location: location(record.id) } };
    },
  });
}

function decisionRoute(approve: boolean) {
  const what = approve ? 'approve' : 'reject';
  return defineRoute({
    method: 'post', path: `/promotions/{id}/${what}`, operationId: `${what}Promotion`, tag: 'promotions',
    summary: approve
      ? 'Approve the stage awaiting approval (an Update): refused for the requester under four eyes (403) and when nothing waits (409).'
      : 'Reject the stage awaiting approval: the promotion rolls back what it changed and ends as rejected.',
    action: 'promotion.approve', params: IdParam, body: ApprovalBody, bodyOptional: true,
    audit: { action: `promotion.${what}`, target },
    responses: { 200: { description: 'the promotion after the decision', schema: PromotionView } },
    async handler({ params, body }, ctx) {
      const record = await requirePromotion(ctx.deps, params.id);
      ctx.audit({ operationId: record.id, details: body.comment !== undefined ? { comment: body.comment } : undefined });
      ctx.authorize('promotion.approve', await decisionTiers(ctx.deps, record, 'awaiting'));
      const state = await decide(ctx.deps, record, approve, ctx.principal, body.comment);
      return { status: 200, body: state };
    },
  });
}

export const promotionRoutes = [
  defineRoute({
    method: 'post', path: '/promotions', operationId: 'createPromotion', tag: 'promotions',
    summary: 'Promote the source environment\'s revision to target environments in stages: starts the promote workflow (id promote-<source>-<short revision>-<n>).',
    action: 'promotion.create', body: PromoteBody, idempotent: true,
    audit: { action: 'promotion.create', target: ({ body }) => `environment/${rawName({ name: (body as { source?: unknown } | undefined)?.source })}` },
    responses: { 202: { description: 'promotion started', schema: OperationAccepted, headers: { Location: 'the promotion' } } },
    async handler({ body }, ctx) {
      const plan = await planPromotion(ctx.deps, body);
      ctx.audit({ details: { targets: plan.targets.map((t) => t.binding.name), revision: plan.revision } });
      ctx.authorize('promotion.create', plan.tiers);
      await checkTargets(ctx.deps, plan, { keepStopped: body.keepStopped });
      const operationId = await startPromotion(ctx.deps, body, plan, ctx.principal.name, ctx.reservation);
      ctx.audit({ operationId, target: `promotion/${operationId}` });
      return { status: 202, body: { operationId }, headers: { Location: location(operationId) } };
    },
  }),
  defineRoute({
    method: 'get', path: '/promotions/{id}', operationId: 'getPromotion', tag: 'promotions',
    summary: 'A promotion\'s stages, per-target progress and timings (the workflow\'s promotionState query).',
    action: 'read', params: IdParam,
    responses: { 200: { description: 'the promotion', schema: PromotionView } },
    async handler({ params }, ctx) {
      const record = await requirePromotion(ctx.deps, params.id);
      return { status: 200, body: await promotionView(ctx.deps, record) };
    },
  }),
  decisionRoute(true),
  decisionRoute(false),
  controlRoute('pause', 'Pause: start no new targets after those in flight.'),
  controlRoute('resume', 'Resume a paused promotion (retrying failed targets under the pause policy).'),
  controlRoute('cancel', 'Cancel: roll back every target changed so far, then end as cancelled.'),
];
