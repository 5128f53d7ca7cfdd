// JSON Schemas of the documents, generated from the zod schemas (never written twice): the
// API's OpenAPI document and editors' YAML validation use these.
import { z } from 'zod';
import { ApplicationDocument } from './application.js';
import { ClusterDocument } from './cluster.js';
import { EnvironmentDocument } from './environment.js';
import { RulesDocument } from './rules.js';

export const DOCUMENT_SCHEMAS = { ApplicationDocument, ClusterDocument, EnvironmentDocument, RulesDocument } as const;

/** The JSON Schema of what a client may send (defaults optional, cross-field checks not expressible). */
export function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
}
