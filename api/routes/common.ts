// Small helpers shared by the route files.
import { LabelKey, LabelValue } from '../../domain/names.js';
import { badRequest } from '../errors.js';

export const json = (status: number, body: unknown) => ({ status, body });

/** Reads a raw request's `name` (or metadata.name) for an audit target, without trusting it. */
export function rawName(body: unknown): string {
  const b = body as { name?: unknown; metadata?: { name?: unknown } } | null | undefined;
  const name = typeof b?.name === 'string' ? b.name : typeof b?.metadata?.name === 'string' ? b.metadata.name : '?';
  return name.slice(0, 100);
}

/** `tier=prod,geo=eu` → { tier: 'prod', geo: 'eu' }; 400 with the offending pair otherwise. */
export function parseSelector(selector: string | undefined): Record<string, string> | undefined {
  if (selector === undefined || selector.trim() === '') return undefined;
  const labels: Record<string, string> = {};
  for (const pair of selector.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (eq < 0 || !LabelKey.safeParse(key).success || !LabelValue.safeParse(value).success) {
      throw badRequest([{ path: 'query.labels', message: `"${pair.slice(0, 100)}" is not a key=value label selector` }]);
    }
    labels[key] = value;
  }
  return labels;
}
