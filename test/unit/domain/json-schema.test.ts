import { describe, expect, it } from 'vitest';
import { DOCUMENT_SCHEMAS, inputJsonSchema } from '../../../domain/json-schema.js';

describe('inputJsonSchema', () => {
  it('generates each document schema from zod, closed to unknown fields', () => {
    const env = inputJsonSchema(DOCUMENT_SCHEMAS.EnvironmentDocument) as {
      required: string[]; additionalProperties: boolean;
      properties: { kind: { const: string }; spec: { properties: { app: { properties: { services: { type: string }; charts: { type: string } } } } } };
    };
    expect(env.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(env.additionalProperties).toBe(false);
    expect(env.properties.kind.const).toBe('Environment');
    expect(env.properties.spec.properties.app.properties.services.type).toBe('array');
    expect(env.properties.spec.properties.app.properties.charts.type).toBe('array');
  });

  it('describes each cluster connection by provider', () => {
    const cluster = inputJsonSchema(DOCUMENT_SCHEMAS.ClusterDocument) as { properties: { spec: { properties: { connection: { oneOf?: unknown[]; anyOf?: unknown[] } } } } };
    const branches = cluster.properties.spec.properties.connection.oneOf ?? cluster.properties.spec.properties.connection.anyOf;
    expect(branches).toHaveLength(4);
  });
});
