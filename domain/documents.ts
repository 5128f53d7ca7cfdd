// The YAML/JSON documents of `flotilla apply -f` and the API: parse, validate, and report
// every problem with its field path. Never throws on bad input.
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { ApplicationDocument } from './application.js';
import { ClusterDocument } from './cluster.js';
import { checkOverrides, EnvironmentDocument } from './environment.js';
import { formatPath, type Path } from './diff.js';
import { RulesDocument } from './rules.js';
import { hasOwn } from './own.js';

export interface ValidationIssue {
  /** Where: "spec.app.services[0].image"; with a document index for multi-document input. */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** Validates `input` against a schema; issues carry field paths, prefixed by `at`. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, at: Path = []): Validated<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: result.error.issues.flatMap((issue) => toIssues(issue, at)) };
}

function toIssues(issue: z.core.$ZodIssue, at: Path): ValidationIssue[] {
  const path = [...at, ...(issue.path as Path)];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: 'unknown field' }));
  }
  if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0 && issue.discriminator === undefined) {
    // Report the branch that got furthest rather than "invalid input".
    const best = issue.errors.reduce((a, b) => (deepest(b) > deepest(a) ? b : a));
    return best.flatMap((i) => toIssues(i, path));
  }
  return [{ path: formatPath(path) || '(document)', message: issue.message }];
}

function deepest(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

export type FlotillaDocument =
  | z.infer<typeof ApplicationDocument>
  | z.infer<typeof ClusterDocument>
  | z.infer<typeof EnvironmentDocument>
  | z.infer<typeof RulesDocument>;

const SCHEMAS = { Application: ApplicationDocument, Cluster: ClusterDocument, Environment: EnvironmentDocument, Rules: RulesDocument } as const;
export const DOCUMENT_KINDS = Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[];

/** Validates one document by its `kind`, including cross-field checks on Environments. */
export function validateDocument(input: unknown, at: Path = []): Validated<FlotillaDocument> {
  const kind = (input as { kind?: unknown } | null)?.kind;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ path: formatPath(at) || '(document)', message: 'must be an object' }] };
  }
  if (typeof kind !== 'string' || !hasOwn(SCHEMAS, kind)) {
    return { ok: false, issues: [{ path: formatPath([...at, 'kind']), message: `must be one of ${DOCUMENT_KINDS.join(', ')}` }] };
  }
  const result = validate(SCHEMAS[kind as keyof typeof SCHEMAS], input, at);
  // Overrides are checked here against an inline app; against an Application where it is known (api/routes/apply.ts).
  if (!result.ok || result.value.kind !== 'Environment' || result.value.spec.app === undefined) return result;
  const problems = checkOverrides(result.value.spec.app, result.value.spec.overrides);
  if (problems.length === 0) return result;
  return { ok: false, issues: problems.map((p) => ({ path: formatPath([...at, 'spec', 'overrides', ...p.path]), message: p.message })) };
}

/** Parses a YAML (or JSON) stream of documents; issues name the document and field. */
export function parseDocuments(text: string): Validated<FlotillaDocument[]> {
  // Silent: the parser's warnings quote the offending line, which may carry a credential.
  const docs = parseAllDocuments(text, { logLevel: 'error' });
  const issues: ValidationIssue[] = [];
  const values: FlotillaDocument[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const at: Path = list.length > 1 ? [`documents[${i}]`] : [];
    if (doc.errors.length > 0) {
      for (const e of doc.errors) issues.push({ path: formatPath(at) || '(document)', message: `YAML: ${e.message.split('\n')[0]}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // e.g. an alias whose anchor is in another document, or an alias bomb
      issues.push({ path: formatPath(at) || '(document)', message: `YAML: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (value === null || value === undefined) return; // an empty document between separators
    const result = validateDocument(value, at);
    if (result.ok) values.push(result.value);
    else issues.push(...result.issues);
  });
  if (issues.length > 0) return { ok: false, issues };
  if (values.length === 0) return { ok: false, issues: [{ path: '(document)', message: 'no documents found' }] };
  return { ok: true, value: values };
}
