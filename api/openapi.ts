// The OpenAPI 3.1 document, generated from the route declarations and their zod schemas
// (z.toJSONSchema): what the API validates is what it documents.
import { z } from 'zod';
import type { AnyRoute, ResponseSpec } from './route.js';
import { ErrorBody } from './schemas.js';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ERROR_RESPONSES: Record<number, string> = {
  400: 'invalid request: `details` lists each problem with its field path',
  401: 'missing or invalid bearer token',
  403: 'the token may not do this',
  404: 'not found',
  409: 'conflict (duplicate, or changed meanwhile)',
  413: 'request body too large',
  415: 'unsupported media type',
  422: 'refused: rule violations, or references to unknown objects (listed in `details`)',
  429: 'rate limited; see Retry-After',
};

function errorStatuses(route: AnyRoute): number[] {
  const out = [400, 429];
  if (route.action) out.push(401, 403);
  if (route.params || route.method !== 'get') out.push(404);
  if (route.method !== 'get') out.push(409, 422);
  if (route.body) out.push(413, 415);
  return out;
}

function parameters(route: AnyRoute): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [['path', route.params], ['query', route.query]] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      out.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: rest, ...(description ? { description } : {}) });
    }
  }
  for (const header of route.headers ?? []) {
    out.push({ name: header.name, in: 'header', required: header.required ?? false, description: header.description, schema: { type: 'string' } });
  }
  if (route.idempotent) {
    out.push({
      name: 'Idempotency-Key', in: 'header', required: false,
      description: 'A retried request with the same key and body gets the first answer; the key with another body is refused (422).',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
    });
  }
  return out;
}

function response(spec: ResponseSpec): JsonSchema {
  return {
    description: spec.description,
    ...(spec.schema ? { content: { 'application/json': { schema: schemaOf(spec.schema, 'output') } } } : {}),
    ...(spec.content
      ? { content: Object.fromEntries(Object.entries(spec.content).map(([type, schema]) => [type, { schema: schemaOf(schema, 'output') }])) }
      : {}),
    ...(spec.headers
      ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) }
      : {}),
  };
}

export function buildOpenApi(routes: readonly AnyRoute[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, spec] of Object.entries(route.responses)) responses[status] = response(spec);
    for (const status of errorStatuses(route)) {
      responses[String(status)] ??= { description: ERROR_RESPONSES[status], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: parameters(route),
      responses,
      ...(route.action ? {} : { security: [] }),
    };
    if (route.body) {
      const content = route.rawBody
        ? Object.fromEntries(Object.entries(route.rawBody.content).map(([type, schema]) => [type, { schema: schemaOf(schema, 'input') }]))
        : { 'application/json': { schema: schemaOf(route.body, 'input') } };
      operation.requestBody = { required: !route.bodyOptional, content };
    }
    (paths[`/v1${route.path}`] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flotilla API',
      version: info.version,
      description: 'Manage a fleet of Kubernetes clusters as one. Mutations that start work answer 202 with `Location: /v1/operations/{id}` (a promotion: `/v1/promotions/{id}`).',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths: { ...paths, '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } } },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (flt_…)' } },
      schemas: { Error: schemaOf(ErrorBody, 'output') },
    },
  };
}
