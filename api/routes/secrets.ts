// /v1/environments/{name}/secrets: an environment's secret values. Written here, encrypted in
// the catalog, read only by the activities that render Secrets into the cluster: no route
// ever answers with a value, and the audit log names the secret, never its value.
import { z } from 'zod';
import { environmentScope } from '../../store/secrets.js';
import { ApiError } from '../errors.js';
import { defineRoute } from '../route.js';
import { list, NameParam } from '../schemas.js';

const SecretParams = NameParam.extend({
  secret: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name').max(253),
});
const SecretBody = z.strictObject({ value: z.string().min(1).max(64 * 1024) });
const SecretInfoView = z.object({ name: z.string(), updatedAt: z.string() });
const secretTarget = ({ params }: { params: Record<string, string> }) => `environment/${params.name ?? '?'}/secret/${params.secret ?? '?'}`;

export const secretRoutes = [
  defineRoute({
    method: 'get', path: '/environments/{name}/secrets', operationId: 'listEnvironmentSecrets', tag: 'environments',
    summary: "The names of an environment's secrets (never their values).",
    action: 'read', params: NameParam,
    responses: { 200: { description: 'secret names', schema: list(SecretInfoView) } },
    async handler({ params }, ctx) {
      await ctx.deps.catalog.environments.require(params.name);
      return { status: 200, body: { items: await ctx.deps.catalog.secrets.list(environmentScope(params.name)) } };
    },
  }),
  defineRoute({
    method: 'put', path: '/environments/{name}/secrets/{secret}', operationId: 'putEnvironmentSecret', tag: 'environments',
    summary: 'Set a secret value of an environment (stored encrypted; used at the next deploy).',
    action: 'environment.write', params: SecretParams, body: SecretBody,
    audit: { action: 'environment.secret.set', target: secretTarget },
    responses: { 204: { description: 'stored' } },
    async handler({ params, body }, ctx) {
      const env = await ctx.deps.catalog.environments.require(params.name);
      ctx.authorize('environment.write', [env.binding.tier]);
      await ctx.deps.catalog.secrets.put(environmentScope(params.name), params.secret, body.value);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'delete', path: '/environments/{name}/secrets/{secret}', operationId: 'deleteEnvironmentSecret', tag: 'environments',
    summary: 'Remove a secret value of an environment.',
    action: 'environment.write', params: SecretParams,
    audit: { action: 'environment.secret.delete', target: secretTarget },
    responses: { 204: { description: 'removed' }, 404: { description: 'no such secret' } },
    async handler({ params }, ctx) {
      const env = await ctx.deps.catalog.environments.require(params.name);
      ctx.authorize('environment.write', [env.binding.tier]);
      const removed = await ctx.deps.catalog.secrets.remove(environmentScope(params.name), params.secret);
      if (!removed) throw new ApiError(404, 'not_found', `secret "${params.secret}" not found`);
      return { status: 204 };
    },
  }),
];
