// flotilla deploy ENV [--revision R] [--wait]: starts a deploy; with --wait, follows the
// operation until it ends (exit 1 when it did not complete).
import { podProblems } from '../../domain/rollout-progress.js';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Format, render } from '../output.js';

interface PendingActivity { activity: string; progress?: unknown }
interface Operation {
  id: string;
  state: string;
  outcome?: string;
  message?: string;
  temporal?: { status: string; failure?: { message: string; type?: string }; pending?: PendingActivity[] };
}

const FINAL = new Set(['completed', 'failed', 'cancelled', 'terminated', 'timed-out']);

export async function deploy(ctx: CommandContext, env: string, options: { revision?: string; keepStopped?: boolean; wait?: boolean; format: Format; interval?: number }): Promise<void> {
  const { body } = await ctx.client().request<{ operationId: string }>('POST', `/v1/environments/${encodeURIComponent(env)}/deploy`, {
    json: { ...(options.revision ? { revision: options.revision } : {}), ...(options.keepStopped ? { keepStopped: true } : {}) },
  });
  if (!options.wait) {
    ctx.io.out(options.format === 'table' ? `deploy started: operation ${body.operationId}` : render(body, options.format, [], []));
    return;
  }
  const final = await waitFor(ctx, body.operationId, options.interval ?? 1000);
  if (options.format !== 'table') ctx.io.out(render(final, options.format, [], []));
  if (final.state !== 'completed' || (final.outcome !== undefined && final.outcome !== 'completed')) {
    const why = final.temporal?.failure ?? (final.message ? { message: final.message, type: undefined } : undefined);
    throw new CliError(`operation ${final.id} ${final.outcome ?? final.state}${why ? `: ${why.message}${why.type ? ` (${why.type})` : ''}` : ''}`, EXIT.failed);
  }
  if (options.format === 'table') ctx.io.out(`operation ${final.id} completed`);
}

/**
 * Polls GET /v1/operations/{id}, printing each state change to stderr, and why workloads are
 * not ready yet (unschedulable, image pull, crash loop) as soon as the rollout reports it.
 */
export async function waitFor(ctx: CommandContext, id: string, intervalMs: number): Promise<Operation> {
  const started = Date.now();
  let last = '';
  let lastProblems = '';
  for (;;) {
    const op = await ctx.client().get<Operation>(`/v1/operations/${encodeURIComponent(id)}`);
    const at = `[${Math.round((Date.now() - started) / 1000)}s]`;
    if (op.state !== last) {
      ctx.io.err(`${at} ${id}: ${op.state}`);
      last = op.state;
    }
    const problems = podProblems(op.temporal?.pending ?? []);
    if (problems.length > 0 && problems.join('\n') !== lastProblems) {
      for (const p of problems) ctx.io.err(`${at}   waiting: ${p}`);
      lastProblems = problems.join('\n');
    }
    if (FINAL.has(op.state)) return op;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

